"""What a verification session orchestrates, above the checks: the two waves of traffic and
the settled counts (traffic.py), the stacks beside the session's own (extras.py), a whole
verification of such a stack (own_pipeline.py) and the artifacts written at its end
(artifacts.py). Lower rooms never import it."""
