"""The WSGI entry point (gunicorn wsgi:app, flask --app wsgi)."""
import gc

from app import create_app

app = create_app()
# Everything the app built at start-up (modules, mappers, routes, catalogues) lives as long
# as the process: moved out of the collector's generations, it is never scanned again. A
# full collection otherwise walks that whole heap every so often, in the middle of a
# request: under a vote burst it was a third of a cast's CPU time (docs/performance.md).
gc.collect()
gc.freeze()
