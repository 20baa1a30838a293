package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// The partner API's convertLead call: Salesforce converts Leads only
// through SOAP (or Apex), not through REST. The emulator converts each Lead
// into a new Account and Contact (convertLeadLocked), never an
// Opportunity; naming an existing accountId or contactId is refused per
// Lead. Up to 200 leadConverts per call; each has a result, in order.

// leadConvert is one <leadConverts> element.
type leadConvert struct {
	LeadID                 string `xml:"leadId"`
	ConvertedStatus        string `xml:"convertedStatus"`
	AccountID              string `xml:"accountId"`
	ContactID              string `xml:"contactId"`
	DoNotCreateOpportunity string `xml:"doNotCreateOpportunity"`
}

// readLeadConverts reads the leadConverts of a convertLead envelope,
// whatever its namespace prefixes.
func readLeadConverts(body []byte) ([]leadConvert, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out []leadConvert
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "leadConverts" {
			var lc leadConvert
			if err := dec.DecodeElement(&lc, &se); err != nil {
				return nil, err
			}
			out = append(out, lc)
		}
	}
}

// soapConvertLead answers convertLead for the session in SessionHeader.
func (e *Emulator) soapConvertLead(c *call, req soapRequest, body []byte) {
	s, ok := e.authenticateToken(strings.TrimSpace(req.sessionID))
	if !ok {
		writeSOAPFault(c, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
		return
	}
	lcs, err := readLeadConverts(body)
	if err != nil {
		writeSOAPFault(c, "soapenv:Client", "Unable to parse the leadConverts: "+err.Error())
		return
	}
	if len(lcs) == 0 || len(lcs) > 200 {
		writeSOAPFault(c, "sf:INVALID_BATCH_SIZE", "INVALID_BATCH_SIZE: convertLead takes 1 to 200 leadConverts")
		return
	}
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<convertLeadResponse>`)
	e.mu.Lock()
	e.setActorLocked(s.UserID)
	for _, lc := range lcs {
		var acct, contact string
		var rerr *recordError
		lead, _ := normalizeID(strings.TrimSpace(lc.LeadID))
		switch {
		case strings.TrimSpace(lc.LeadID) == "":
			rerr = newRecErr("REQUIRED_FIELD_MISSING", "Required fields are missing: [leadId]")
		case strings.TrimSpace(lc.ConvertedStatus) == "":
			rerr = newRecErr("REQUIRED_FIELD_MISSING", "Required fields are missing: [convertedStatus]")
		case strings.TrimSpace(lc.ConvertedStatus) != "Closed - Converted":
			rerr = newRecErr("INVALID_STATUS", "invalid convertedStatus: "+lc.ConvertedStatus)
		case strings.TrimSpace(lc.AccountID) != "" || strings.TrimSpace(lc.ContactID) != "":
			rerr = newRecErr("FIELD_INTEGRITY_EXCEPTION", "the emulator converts a Lead into a new Account and Contact only; leave accountId and contactId empty")
		default:
			acct, contact, rerr = e.convertLeadLocked(lc.LeadID)
		}
		b.WriteString(`<result>`)
		if rerr != nil {
			b.WriteString(`<accountId xsi:nil="true"/><contactId xsi:nil="true"/><errors>`)
			for _, f := range rerr.Fields {
				b.WriteString(`<fields>` + esc(f) + `</fields>`)
			}
			b.WriteString(`<message>` + esc(rerr.Message) + `</message><statusCode>` + esc(rerr.Code) + `</statusCode></errors>`)
			b.WriteString(`<leadId>` + esc(lead) + `</leadId><opportunityId xsi:nil="true"/><success>false</success>`)
		} else {
			b.WriteString(`<accountId>` + esc(acct) + `</accountId><contactId>` + esc(contact) + `</contactId>`)
			b.WriteString(`<leadId>` + esc(lead) + `</leadId><opportunityId xsi:nil="true"/><success>true</success>`)
		}
		b.WriteString(`</result>`)
	}
	e.setActorLocked("")
	e.mu.Unlock()
	b.WriteString(`</convertLeadResponse>`)
	writeSOAP(c, b.String())
}
