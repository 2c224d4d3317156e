"""The one error type the CLI turns into a single line on stderr and exit code 2."""


class DatagenError(Exception):
    """Bad input or an unusable environment: the message is shown to the user as one line."""


class BudgetExhausted(DatagenError):
    """The run hit --max-requests or --max-tokens-total; what was done so far is kept."""
