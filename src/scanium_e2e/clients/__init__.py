"""Clients of the pipeline's own APIs: the store's Prometheus API and Alloy's."""
