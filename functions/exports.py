"""`GET /api/teams/{team_id}/exports?from=…&to=…&format=csv`: a CSV of the team's
sessions and daily rollups in Storage, answered with a signed download URL."""

from uuid import UUID

from functions.http import ON_A_TEAM, Api
from shared.auth import AccessClaims
from shared.config import get_settings
from shared.db import get_read_database
from shared.exports import ExportPublic, ExportQuery, create_export

api = Api("exports")
EXPORTS = api.path("/api/teams/{team_id}/exports", function="team_exports")


@EXPORTS.get(
    "createExport",
    "A CSV of the team's sessions and daily rollups, as a signed download URL (members)",
    response=ExportPublic,
    errors=(*ON_A_TEAM, 403),
)
def team_exports(claims: AccessClaims, team_id: UUID, query: ExportQuery) -> ExportPublic:
    # Read-only: the replica when DATABASE_READ_URL is set (the CSV goes to Storage).
    return create_export(get_read_database(), claims, team_id, query, get_settings())


bp = api.blueprint()
