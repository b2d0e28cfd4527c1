"""motcua: only the wiring. Routes live in chalicelib/api, use cases in chalicelib/services."""

from chalice import Chalice

from chalicelib.api import calendar_routes, catalogue_routes, dossier_routes, jobs, meta_routes, public_routes

app = Chalice(app_name="motcua")

for module in (meta_routes, catalogue_routes, calendar_routes, dossier_routes, public_routes, jobs):
    app.register_blueprint(module.bp)
