"""The LQ benchmark: build deterministic LQ versions of a dataset, score any model on every split, report
robustness (mPC, rPC) with tables and plots."""
