//go:build !race

package skiff

const raceEnabled = false
