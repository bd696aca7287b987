"""The secret ballot box (投票箱): what the deputies cast in secret is kept so that nobody who
reads the database — live rows, dead row versions, the write-ahead log, a backup — can tell who
cast which, without the server's ballot key (MINSHENG_BALLOT_KEY). See envelopes.py and
docs/ballot-secrecy.md.
"""
