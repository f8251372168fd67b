"""The success criteria, one module per family; each check is a small function over a Pipeline.

- `waits`: how a check polls, ends early on a hard error and fails with a diagnosis;
- `scrape`: `up == 1`;
- `expectations`: what the ledger says each count must rise by;
- `counts`: the exact counts, polled at once;
- `no_secrets`: no secret in labels, /metrics or logs;
- `dashboards`: every panel of a dashboard has data;
- `leaks`: the scanning the secret checks use.
"""
