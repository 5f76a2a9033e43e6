"""The combined record: merge of GP and hospital with provenance kept."""
