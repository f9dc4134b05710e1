//go:build !race

package dynamo_test

const raceDetector = false
