"""What students get: ``vit.py`` (the contract with TODO bodies), ``answers.md`` and ``vit_lab.ipynb``."""
