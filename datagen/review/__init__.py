"""`datagen review`: people read, correct and rank what datagen made, in a local web app.

Modes: records (page through kept and rejected rows; accept, reject with a reason, edit an output), pairs
(two answers side by side, sides randomized per item; A, B, tie, skip) and blind (an eval's models with
their names hidden until the end). Every action goes to an fsynced JSONL journal beside the reviewed
folder (journal.py); a commit turns the journal into a new immutable version (commit.py).

Public API:
    open_target(ref, runs, evals) -> Target      pick_mode(target, mode) -> str            (target.py)
    Journal(folder, annotator).append(entry)     read_journals(folder), journals_sha(folder) (journal.py)
    cohen_kappa, fleiss_kappa, mtbench_agreement, agreement_report                          (agreement.py)
    commit_records(target, entries, sha), commit_pairs(target, entries, sha, mode, name, runs) (commit.py)
    summarize(target, entries, mode), summarize_all(target), review_lines(summary)          (summary.py)
    make_app(review) / serve(...)                                                          (app.py, server.py)

Modules: target, journal, agreement, records (records mode), pairs (pairs and blind modes), commit,
summary, state (one running review: its items, journal and answers to the page), app (the aiohttp
routes), security (token, Host/Origin checks, Content-Security-Policy), server (bind and run);
static/ holds the page, its stylesheet and scripts (no inline script anywhere).
"""
from datagen.review.agreement import agreement_report, cohen_kappa, fleiss_kappa, mtbench_agreement
from datagen.review.journal import Journal, journal_dir, journals_sha, read_journals
from datagen.review.target import Target, open_target, pick_mode

__all__ = ["Journal", "Target", "agreement_report", "cohen_kappa", "fleiss_kappa", "journal_dir", "journals_sha",
           "mtbench_agreement", "open_target", "pick_mode", "read_journals"]
