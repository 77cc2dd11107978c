package sim

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// A comment may point a reader only at what the repository holds.
func TestCommentsPointInsideTheRepository(t *testing.T) {
	outside := regexp.MustCompile(`//.*(?:^|[\s(])(?:/work/|/home/|/Users/|/root/|~/|\.\./\.\./|facts/)`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range outside.FindAll(data, -1) {
			t.Errorf("%s: a comment points outside the repository: %s", f, m)
		}
	}
}
