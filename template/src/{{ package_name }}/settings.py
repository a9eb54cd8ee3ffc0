"""Your settings. This file is yours: `copier copy` writes it once, `copier update` never again.

Upper-case names here override the defaults in create_app(); FLASK_* environment variables
override these in turn. The tests ignore this file: they start from the defaults. Keep secrets out
of it: use FLASK_SECRET_KEY. Keep the file even when it sets nothing: create_app() imports it.
"""

# Examples (uncomment to use):
# STREAM_CHUNK_SIZE = 16 * 1024
# STREAM_FETCH_SIZE = 5_000
# CSV_DOWNLOAD_NAME = "orders.csv"
