"""X12 5010 for claimrisk: a streaming tokenizer, 837P/837I and 835 readers, and 837/835 writers.

Our own reader rather than a model-parsing library because payer files are large single
transactions (model parsers hold a whole ST-SE in memory) and often bend the envelope rules
(non-fixed-width ISA, files that start at ST); x12sdk stays in the tests as the conformance oracle.
"""
