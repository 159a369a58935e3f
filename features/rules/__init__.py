"""The rule catalog (what each flag means) and the vectorized engine that computes them."""
