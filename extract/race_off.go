//go:build !race

package extract

// raceEnabled: the binary was built with -race.
const raceEnabled = false
