package csvcr_test

import (
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync/internal/csvcr"
)

func Example() {
	in := "key,address\r\n1,\"1 Main St\r\nSpringfield\"\r\n"
	cr := csv.NewReader(csvcr.Wrap(strings.NewReader(in), ','))
	for {
		rec, err := cr.Read()
		if err != nil {
			break
		}
		csvcr.Restore(rec)
		fmt.Printf("%q\n", rec)
	}
	// Output:
	// ["key" "address"]
	// ["1" "1 Main St\r\nSpringfield"]
}
