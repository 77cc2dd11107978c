package extract

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	RunChildIfRequested()
	runInProcessIfRequested()
	os.Exit(m.Run())
}
