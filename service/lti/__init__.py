"""LTI 1.3 Advantage, tool side, without a launch: our key and JWKS, OAuth2 client credentials, Names and Role
Provisioning Services to match students, Assignment and Grade Services to post the grades that count.

Modules: ``config`` (the registration), ``keys`` (key pair, JWKS), ``tokens`` (client assertion, token cache),
``client`` (HTTP with retries and paging), ``nrps`` (members), ``ags`` (line item, score), ``push`` (matching
and the summary), ``__main__`` (the CLI).
"""
