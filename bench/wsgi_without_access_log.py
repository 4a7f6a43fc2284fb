"""The WSGI application with the patient read's access-log recorder replaced by a no-op.

For bench/api_read.py's gunicorn variant only: it shows what the access log costs per request.
Never point a real server at it.
"""

from unittest import mock

from hospital.wsgi import application  # sets Django up; the selector module can be imported after it

mock.patch("emr.selectors.patients.access_log_record", lambda **_kwargs: None).start()

__all__ = ["application"]
