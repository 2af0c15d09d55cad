"""Static files of the student page (a package so that setuptools ships them)."""
