package bench

import "sync"

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
