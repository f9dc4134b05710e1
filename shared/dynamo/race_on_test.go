//go:build race

package dynamo_test

// raceDetector: the race detector slows the embedded engine several times.
const raceDetector = true
