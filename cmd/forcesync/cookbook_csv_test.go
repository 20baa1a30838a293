package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

// TestCookbookCMSOnCSV runs the cookbook's CMS story (block 3, with its
// filter (score ?? 0) >= 50) on a CSV file, where every value is text:
// scores compare as numbers, so contacts scoring 50 or more become Leads and
// the others are skipped, none held with FILTER_ERROR. Only the connection
// is pointed at the emulator.
func TestCookbookCMSOnCSV(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cookbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 3 || !strings.Contains(blocks[2][1], "filter: (score ?? 0) >= 50") {
		t.Fatal("cookbook block 3 is no longer the CMS story with the score filter")
	}
	_, sfURL := startEmulator(t, emulator.Config{})
	cfg := strings.NewReplacer("login_url: sandbox", "login_url: "+sfURL, "client_id: 3MVG9cms", "client_id: forcesync-demo",
		"username: cms@example.com", "username: admin@forcesync.local").Replace(blocks[2][1])
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(data, []byte("id,first_name,last_name,email,company,score,company_size\n"+
		"c1,Ada,Hot,ada@example.com,Acme,60,120\n"+
		"c2,Bob,Cold,bob@example.com,Acme,49.5,10\n"+
		"c3,Cy,Unscored,cy@example.com,,,\n"+
		"c4,Di,Edge,di@example.com,,50,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SF_SECRET": "forcesync-demo-secret", "SF_PASSWORD": "forcesync"}
	var out, errOut lockedBuffer
	err = run(context.Background(), []string{"push", "--config", path, "--source", "contact", "--file", data},
		func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "FILTER_ERROR") || !strings.Contains(out.String(), "created 2,") || !strings.Contains(out.String(), "skipped 2,") {
		t.Fatalf("summary:\n%s\n%s", out.String(), errOut.String())
	}
	recs, err := emuClient(t, sfURL).QueryRecords(context.Background(), "SELECT Forcesync_Key__c, Company, NumberOfEmployees FROM Lead ORDER BY Forcesync_Key__c")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(recs); len(recs) != 2 || recs[0]["Forcesync_Key__c"] != "c1" || recs[1]["Forcesync_Key__c"] != "c4" || recs[1]["Company"] != "Unknown" {
		t.Fatalf("leads %s", got)
	}
}

// TestCookbookWordPressUsersOnCSV pushes a CSV export of WordPress users
// through the cookbook's section 6 config, whose disable_when is
// "!activated": the column's "true" and "false" are text, and must disable
// (an inactive User, create_disabled) or not, as JSON booleans do, rather
// than hold the records with an expression error. The passwords of the
// file are set (the active user logs in).
func TestCookbookWordPressUsersOnCSV(t *testing.T) {
	_, sfURL := startEmulator(t, emulator.Config{})
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cookbookForEmulator(t, "## 6.", sfURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(data, []byte("id,first_name,last_name,email,login,activated,password\n"+
		"50,Bea,Active,bea@example.com,bea,true,B3a!Passw0rd\n"+
		"51,Cy,Waiting,cy@example.com,cy,FALSE,Cy!Passw0rd9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"FORCESYNC_API_TOKEN": "tok", "TEST_SF_SECRET": "forcesync-demo-secret", "TEST_SF_PASSWORD": "forcesync"}
	var out, errOut lockedBuffer
	err := run(context.Background(), []string{"push", "--config", path, "--source", "wp_user", "--file", data},
		func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	recs, err := emuClient(t, sfURL).QueryRecords(context.Background(), "SELECT Username, IsActive FROM User WHERE Username LIKE '%.wpdev' ORDER BY Username")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(recs); len(recs) != 2 || recs[0]["Username"] != "bea@example.com.wpdev" || recs[0]["IsActive"] != true ||
		recs[1]["Username"] != "cy@example.com.wpdev" || recs[1]["IsActive"] != false {
		t.Fatalf("users %s\n%s\n%s", got, out.String(), errOut.String())
	}
	resp, err := http.PostForm(sfURL+"/services/oauth2/token", url.Values{"grant_type": {"password"},
		"client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
		"username": {"bea@example.com.wpdev"}, "password": {"B3a!Passw0rd"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the active user's login: %d", resp.StatusCode)
	}
}
