"""Reference data for drug claims: the CMS ASP NDC-HCPCS crosswalk and payment limits, NDC
normalisation and ICD-10-CM validity.

The raw CMS files are parsed once (``reference.cms``) into a compact form shipped in
``reference/data/``; the service only ever reads that compact form (``reference.store``), so it
starts fast and works without the raw files.
"""
