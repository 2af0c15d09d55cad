"""Similarity of submissions beyond the starter template: code and written answers, offline.

``similarity_report(sources, load_template(), params)`` gives the code and answers reports; the service
stores runs and reviews (``service/similarity_runs.py``), instructors start them over the API or with
``python -m service.similarity``.
"""

from service.similarity.models import Cluster, Document, Fragment, KindReport, Pair, SimilarityParams
from service.similarity.report import Source, similarity_report
from service.similarity.template import Template, load_template
from service.similarity.tokens import Untokenisable, code_tokens

__all__ = [
    "Cluster",
    "Document",
    "Fragment",
    "KindReport",
    "Pair",
    "SimilarityParams",
    "Source",
    "Template",
    "Untokenisable",
    "code_tokens",
    "load_template",
    "similarity_report",
]
