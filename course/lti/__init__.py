"""LTI 1.3 Advantage tool: platforms (LMSs) launch the module, deep link into it, receive scores and
share their course roster. The protocol stays in this package (pylti1p3, the library does it); the
rest of the app sees only domain functions (sign in, report a score)."""
