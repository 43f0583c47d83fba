"""Everything needed to run StreamTrack without Azure or Supabase cloud.

`python -m localdev db up|down|reset|url|psql|status` runs a throwaway
PostgreSQL cluster with a Supabase compatibility layer and the project's
migrations applied by the real Supabase CLI.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_ROOT = REPO_ROOT / ".localdev"
