"""Analytics: rollups kept by the monitor, the leaderboard refresh, the bench's bulk build."""
