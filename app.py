"""motcua: only the wiring. Routes live in chalicelib/api, use cases in chalicelib/services."""

from chalice import Chalice

from chalicelib.api import calendar_routes, catalogue_routes, dossier_routes, meta_routes, public_routes

app = Chalice(app_name="motcua")

for blueprint in (meta_routes.bp, catalogue_routes.bp, calendar_routes.bp, dossier_routes.bp, public_routes.bp):
    app.register_blueprint(blueprint)
