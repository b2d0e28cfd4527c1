"""The catalogue repository: units, procedure versions (immutable once published)."""

from __future__ import annotations

from pynamodb.transactions import TransactWrite

from ...domain.catalogue import Procedure, Unit
from ...services.forms import check_form_schema
from .models import CatalogueModel

UNITS = "UNIT"
PROCEDURES = "PROCEDURE"  # the current version of every procedure, for listing


def _version_pk(code: str) -> str:
    return f"PROCEDURE#{code}"


def _version_sk(version: int) -> str:
    return f"v{version:05d}"


class CatalogueRepository:
    def units(self) -> list[Unit]:
        return [Unit.from_dict(item.data) for item in CatalogueModel.query(UNITS)]

    def put_unit(self, unit: Unit) -> None:
        CatalogueModel(UNITS, unit.id, data=unit.as_dict()).save()

    def procedures(self) -> list[Procedure]:
        return [Procedure.from_dict(item.data) for item in CatalogueModel.query(PROCEDURES)]

    def procedure(self, code: str, version: int | None = None) -> Procedure | None:
        pk, sk = (PROCEDURES, code) if version is None else (_version_pk(code), _version_sk(version))
        try:
            return Procedure.from_dict(CatalogueModel.get(pk, sk).data)
        except CatalogueModel.DoesNotExist:
            return None

    def publish(self, procedure: Procedure) -> Procedure:
        """Store a new version when the content changed; dossiers keep the version they were received under.
        A form schema that is not valid draft 2020-12 is refused (InvalidInput naming the problem)."""
        check_form_schema(procedure.form_schema)
        current = self.procedure(procedure.code)
        if current is not None and _content(current) == _content(procedure):
            return current
        version = (current.version + 1) if current else 1
        published = Procedure.from_dict({**procedure.as_dict(), "version": version})
        data = published.as_dict()
        with TransactWrite(connection=CatalogueModel._get_connection().connection) as transaction:
            transaction.save(CatalogueModel(_version_pk(published.code), _version_sk(version), data=data),
                             condition=CatalogueModel.pk.does_not_exist())
            transaction.save(CatalogueModel(PROCEDURES, published.code, data=data))
        return published


def _content(procedure: Procedure) -> dict:
    data = procedure.as_dict()
    data.pop("version")
    return data
