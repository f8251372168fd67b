"""Alert rules on real data: loading Prometheus and Grafana rules, judging them on the
healthy and incident stacks and on the harness's variants (coverage), and routing their
alerts through the team's Alertmanager config (README, "Alert rules")."""
