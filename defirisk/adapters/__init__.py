"""Protocol adapters: one sub-package per family (calls, decoding, discovery, rules)."""
