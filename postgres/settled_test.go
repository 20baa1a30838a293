package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
)

// A database whose collation is not byte order (ICU's English: "a" < "B" <
// "c" < "D", where bytes say "B" < "D" < "a" < "c"): a chunk of keys read
// as one range must take the range's ends by the database's order, or the
// keys beyond Go's ends are missed and the push takes synced records for
// new ones.
func TestSettledUnderALinguisticCollation(t *testing.T) {
	dsn, _ := pgtest.Schema(t, "collate")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("fs_collate_%d", os.Getpid())
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C.UTF-8'"); err != nil {
		t.Skipf("this server cannot make an ICU database: %v", err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	s := open(t, u.String(), "", nil)
	defer s.Close()

	keys := []string{"a", "B", "c", "D"}
	var rows []forcesync.PushedRecord
	for i, k := range keys {
		rows = append(rows, forcesync.PushedRecord{Key: k, Version: 1, Fields: fmt.Sprintf(`{"n":%d}`, i),
			State: forcesync.StateSynced, SalesforceID: fmt.Sprintf("00Q00000000000%dAAA", i), Fingerprint: "fp-" + k})
	}
	if err := s.RecordPushed(ctx, "contact", "m1", rows, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Settled(ctx, "contact", []string{"m1"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if st := got[k]; st.Mappings["m1"].Fingerprint != "fp-"+k || st.Mappings["m1"].State != forcesync.StateSynced {
			t.Errorf("%s: %+v, want synced with fp-%s", k, st, k)
		}
	}
}
