//go:build race

package skiff

// raceEnabled reports whether the race detector is on; the bulk transfer
// tests shrink under it to keep the suite within its time budget.
const raceEnabled = true
