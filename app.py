"""motcua: only the wiring. Routes live in chalicelib/api, use cases in chalicelib/services."""

from chalice import Chalice

from chalicelib.api import (
    calendar_routes,
    catalogue_routes,
    document_routes,
    dossier_routes,
    event_handlers,
    import_routes,
    inbound_routes,
    jobs,
    meta_routes,
    print_routes,
    public_routes,
    quality_routes,
    rating_routes,
    stats_routes,
    sync_routes,
    webhook_routes,
)
from chalicelib.config import settings
from chalicelib.observability import traced

# Fail at container start, with the variable named, rather than with a 500 on the first request.
settings()

# Powertools (chalicelib/observability.py) owns the "motcua" logger; Chalice's handler on it printed every line twice.
app = Chalice(app_name="motcua", configure_logs=False)

for module in (meta_routes, catalogue_routes, calendar_routes, dossier_routes, public_routes, stats_routes, jobs,
               event_handlers, quality_routes, inbound_routes, webhook_routes, sync_routes, import_routes,
               print_routes, rating_routes, document_routes):
    app.register_blueprint(module.bp)

# XLSX answers (report 06, the tracking book) reach the client as bytes only when its Accept names a binary type
# registered here (chalicelib/api/files.py); CSV is text and needs none.
app.api.binary_types.append("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# One X-Ray subsegment per invocation when the function is traced; the tracer loads on the first invocation
# (chalicelib/observability.py), never at import.
app.register_middleware(traced, "all")
# Printed forms and the tracking book as PDF (api/print_routes.py), the same way.
app.api.binary_types.append("application/pdf")
