"""The payer simulator behind ``claimrisk synth``.

It plays both sides of the billing conversation: providers who write drug claims with their own
habits and slips, and payers who adjudicate them with their own strictness. Because it decides
every denial itself, it knows the true denial probability of each claim, which no real history
offers. It may use ``claims``, ``edi`` and ``reference`` but never ``features``, ``training`` or
``serving``: the generator must not learn the payers' behaviour from the model it is meant to test.
"""
