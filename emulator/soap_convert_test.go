package emulator

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSOAPConvertLead: convertLead converts a Lead into an Account and a
// Contact, answers per Lead, refuses a converted Lead with
// CANNOT_UPDATE_CONVERTED_LEAD and a bad session with a fault.
func TestSOAPConvertLead(t *testing.T) {
	e, srv := oauthServer(t, Config{})
	tok := passwordToken(t, srv.URL, "admin@forcesync.local", "forcesync")["access_token"].(string)
	e.mu.Lock()
	lead, rerr := e.insertLocked("Lead", map[string]any{"LastName": "Ada", "Company": "Acme", "Email": "ada@example.com"})
	e.mu.Unlock()
	if rerr != nil {
		t.Fatal(rerr)
	}
	soap := func(session, converts string) (int, string) {
		t.Helper()
		body := `<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="urn:partner.soap.sforce.com">` +
			`<env:Header><p:SessionHeader><p:sessionId>` + session + `</p:sessionId></p:SessionHeader></env:Header>` +
			`<env:Body><p:convertLead>` + converts + `</p:convertLead></env:Body></env:Envelope>`
		resp, err := http.Post(srv.URL+"/services/Soap/u/60.0", "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	one := `<p:leadConverts><p:convertedStatus>Closed - Converted</p:convertedStatus><p:doNotCreateOpportunity>true</p:doNotCreateOpportunity><p:leadId>` + lead + `</p:leadId></p:leadConverts>`
	code, out := soap(tok, one+`<p:leadConverts><p:convertedStatus>Working</p:convertedStatus><p:leadId>`+lead+`</p:leadId></p:leadConverts>`)
	if code != 200 || strings.Count(out, "<result>") != 2 || !strings.Contains(out, "<success>true</success>") ||
		!strings.Contains(out, "<statusCode>INVALID_STATUS</statusCode>") {
		t.Fatalf("convert: %d %s", code, out)
	}
	contact := out[strings.Index(out, "<contactId>")+len("<contactId>"):]
	contact = contact[:strings.Index(contact, "<")]
	e.mu.RLock()
	l := e.org.records[lead]
	c := e.org.records[contact]
	e.mu.RUnlock()
	if l.getName("IsConverted") != true || l.getName("ConvertedContactId") != contact || c == nil || c.getName("Email") != "ada@example.com" {
		t.Fatalf("lead %v contact %v", l.getName("ConvertedContactId"), c)
	}
	if _, out := soap(tok, one); !strings.Contains(out, "<statusCode>CANNOT_UPDATE_CONVERTED_LEAD</statusCode>") {
		t.Fatalf("second convert: %s", out)
	}
	if code, out := soap("nope", one); code != 500 || !strings.Contains(out, "sf:INVALID_SESSION_ID") {
		t.Fatalf("bad session: %d %s", code, out)
	}
}

// FuzzReadLeadConverts: no envelope makes the convertLead reader panic.
func FuzzReadLeadConverts(f *testing.F) {
	f.Add(`<Envelope><Body><convertLead><leadConverts><leadId>00Q</leadId><convertedStatus>Closed - Converted</convertedStatus></leadConverts></convertLead></Body></Envelope>`)
	f.Add(`<a><leadConverts><leadId>`)
	f.Fuzz(func(t *testing.T, body string) {
		lcs, err := readLeadConverts([]byte(body))
		if err != nil && lcs != nil {
			t.Fatalf("results with an error: %v", lcs)
		}
	})
}
