"""`python -m datagen.cli ...` is `datagen ...`."""
import sys

from datagen.cli import main

sys.exit(main())
