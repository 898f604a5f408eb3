package bench

import (
	"os"
	"strings"
	"sync"
)

// onceErr returns a function that calls f the first time and returns its
// error every time.
func onceErr(f func() error) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = f() })
		return err
	}
}

// readFile returns a small file's content, trimmed.
func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// splitFields splits on white space.
func splitFields(s string) []string { return strings.Fields(s) }
