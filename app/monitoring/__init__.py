"""What an operator watches: health and readiness, Prometheus metrics, request ids and log lines.

See docs/monitoring.md.
"""
