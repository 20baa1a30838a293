package salesforce

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Salesforce converts Leads only through the SOAP partner API's
// convertLead (or Apex); this is the one SOAP call of the client, sent with
// the OAuth session in the SessionHeader.

// LeadConvert asks to convert one Lead into a new Account and Contact.
type LeadConvert struct {
	LeadID string
	// ConvertedStatus is a Lead status marked converted in the org;
	// empty means "Closed - Converted".
	ConvertedStatus string
	// CreateOpportunity creates an Opportunity too (default: not).
	CreateOpportunity bool
}

// ConvertResult is the outcome of one LeadConvert.
type ConvertResult struct {
	LeadID, AccountID, ContactID string
	// Err is the Lead's error; nil on success.
	Err *RecordError
}

// maxConvertResponse bounds a convertLead answer.
const maxConvertResponse = 4 << 20

// ConvertLeads converts up to 200 Leads in one SOAP call and returns one
// result per Lead, in order. A call that fails as a whole (a SOAP fault) is
// an *APIError whose Code is the fault's code without its "sf:" prefix.
// convertLead is not idempotent: after an unclear failure, read the Lead's
// IsConverted and ConvertedContactId before converting again.
func (c *Client) ConvertLeads(ctx context.Context, lcs []LeadConvert) ([]ConvertResult, error) {
	if len(lcs) == 0 || len(lcs) > 200 {
		return nil, fmt.Errorf("salesforce: convert leads: %d leads (1..200 per call)", len(lcs))
	}
	tok := c.Token()
	if tok == nil {
		return nil, errors.New("salesforce: convert leads: not logged in")
	}
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">`)
	b.WriteString(`<soapenv:Header><urn:SessionHeader><urn:sessionId>` + esc(tok.AccessToken) + `</urn:sessionId></urn:SessionHeader></soapenv:Header>`)
	b.WriteString(`<soapenv:Body><urn:convertLead>`)
	for _, lc := range lcs {
		st := lc.ConvertedStatus
		if st == "" {
			st = "Closed - Converted"
		}
		fmt.Fprintf(&b, `<urn:leadConverts><urn:convertedStatus>%s</urn:convertedStatus><urn:doNotCreateOpportunity>%t</urn:doNotCreateOpportunity><urn:leadId>%s</urn:leadId><urn:overwriteLeadSource>false</urn:overwriteLeadSource><urn:sendNotificationEmail>false</urn:sendNotificationEmail></urn:leadConverts>`,
			esc(st), !lc.CreateOpportunity, esc(lc.LeadID))
	}
	b.WriteString(`</urn:convertLead></soapenv:Body></soapenv:Envelope>`)
	h := http.Header{"Content-Type": {"text/xml; charset=utf-8"}, "Soapaction": {`""`}}
	resp, err := c.Do(ctx, KindREST, http.MethodPost, "/services/Soap/u/"+c.version, strings.NewReader(b.String()), h)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "" && strings.Contains(ae.Body, "<faultcode>") {
			ae.Code = strings.TrimPrefix(between(ae.Body, "<faultcode>", "</faultcode>"), "sf:")
			ae.Message = between(ae.Body, "<faultstring>", "</faultstring>")
		}
		return nil, fmt.Errorf("salesforce: convert leads: %w", err)
	}
	defer resp.Body.Close()
	var env struct {
		Results []struct {
			LeadID    string `xml:"leadId"`
			AccountID string `xml:"accountId"`
			ContactID string `xml:"contactId"`
			Success   bool   `xml:"success"`
			Errors    []struct {
				Fields     []string `xml:"fields"`
				Message    string   `xml:"message"`
				StatusCode string   `xml:"statusCode"`
			} `xml:"errors"`
		} `xml:"Body>convertLeadResponse>result"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, maxConvertResponse)).Decode(&env); err != nil {
		return nil, fmt.Errorf("salesforce: convert leads: reading the answer: %w", err)
	}
	if len(env.Results) != len(lcs) {
		return nil, fmt.Errorf("salesforce: convert leads: %d results for %d leads", len(env.Results), len(lcs))
	}
	out := make([]ConvertResult, len(lcs))
	for i, r := range env.Results {
		out[i] = ConvertResult{LeadID: r.LeadID, AccountID: r.AccountID, ContactID: r.ContactID}
		if !r.Success {
			re := &RecordError{StatusCode: "UNKNOWN_EXCEPTION", Message: "convertLead failed without an error"}
			if len(r.Errors) > 0 {
				re = &RecordError{StatusCode: r.Errors[0].StatusCode, Message: r.Errors[0].Message, Fields: r.Errors[0].Fields}
			}
			out[i].Err = re
		}
	}
	return out, nil
}

func between(s, open, close string) string {
	i := strings.Index(s, open)
	if i < 0 {
		return ""
	}
	s = s[i+len(open):]
	if j := strings.Index(s, close); j >= 0 {
		s = s[:j]
	}
	return s
}
