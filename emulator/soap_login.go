package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The SOAP partner API's login and logout calls, and nothing else of SOAP:
// jsforce's conn.login(username, password) without an OAuth2 client posts
// <login> to /services/Soap/u/{version}, and conn.logout() then posts
// <logout>. Other SOAP calls answer a fault.

// soapRequest is what serveSOAP needs from an envelope, read without regard
// to namespaces (clients spell the prefixes differently).
type soapRequest struct {
	call               string // local name of the first element in Body
	username, password string
	sessionID          string // SessionHeader/sessionId
}

// maxSOAPBody bounds a SOAP request: login and logout envelopes are tiny.
const maxSOAPBody = 64 << 10

func readSOAPRequest(r io.Reader) (soapRequest, error) {
	var req soapRequest
	dec := xml.NewDecoder(io.LimitReader(r, maxSOAPBody))
	inBody := false
	var field *string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return req, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			field = nil
			switch name := t.Name.Local; {
			case name == "Body":
				inBody = true
			case inBody && req.call == "":
				req.call = name
			case name == "username":
				field = &req.username
			case name == "password":
				field = &req.password
			case name == "sessionId":
				field = &req.sessionID
			}
		case xml.CharData:
			if field != nil {
				*field += string(t)
			}
		case xml.EndElement:
			field = nil
		}
	}
	if req.call == "" {
		return req, errors.New("no call in the SOAP Body")
	}
	return req, nil
}

// serveSOAP answers login and logout as the partner API does.
func (e *Emulator) serveSOAP(c *call) {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxSOAPBody))
	if err != nil {
		writeSOAPFault(c, "soapenv:Client", "Unable to read the SOAP request: "+err.Error())
		return
	}
	req, err := readSOAPRequest(bytes.NewReader(body))
	if err != nil {
		writeSOAPFault(c, "soapenv:Client", "Unable to parse the SOAP request: "+err.Error())
		return
	}
	switch req.call {
	case "login":
		e.soapLogin(c, req)
	case "logout":
		e.mu.Lock()
		_, ok := e.sessions[req.sessionID]
		delete(e.sessions, req.sessionID)
		e.mu.Unlock()
		if !ok {
			writeSOAPFault(c, "sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session")
			return
		}
		writeSOAP(c, `<logoutResponse/>`)
	case "convertLead":
		e.soapConvertLead(c, req, body) // soap_convert.go
	default:
		writeSOAPFault(c, "sf:UNSUPPORTED_API_OPERATION", "UNSUPPORTED_API_OPERATION: the emulator's SOAP API serves only login and logout; use REST")
	}
}

func (e *Emulator) soapLogin(c *call, req soapRequest) {
	e.mu.Lock()
	u := e.userByNameLocked(req.username)
	if !e.checkAPIPasswordLocked(u, req.password) {
		e.mu.Unlock()
		writeSOAPLoginFault(c, "INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
		return
	}
	s := e.newSessionLocked("", u.ID, u.Username, []string{"api", "web", "full"}, "")
	org := e.orgID()
	e.mu.Unlock()

	version := c.r.PathValue("soapVersion")
	base := e.baseURL(c)
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<loginResponse><result>`)
	b.WriteString(`<metadataServerUrl>` + esc(base+"/services/Soap/m/"+version+"/"+org[:15]) + `</metadataServerUrl>`)
	b.WriteString(`<passwordExpired>false</passwordExpired><sandbox>` + strconv.FormatBool(e.cfg.Sandbox) + `</sandbox>`)
	b.WriteString(`<serverUrl>` + esc(base+"/services/Soap/u/"+version+"/"+org[:15]) + `</serverUrl>`)
	b.WriteString(`<sessionId>` + esc(s.Token) + `</sessionId>`)
	b.WriteString(`<userId>` + esc(u.ID) + `</userId>`)
	b.WriteString(`<userInfo>`)
	b.WriteString(`<organizationId>` + esc(org) + `</organizationId>`)
	b.WriteString(`<sessionSecondsValid>` + strconv.Itoa(int(e.sessionTimeout().Seconds())) + `</sessionSecondsValid>`)
	b.WriteString(`<userEmail>` + esc(u.Email) + `</userEmail>`)
	b.WriteString(`<userFullName>` + esc(strings.TrimSpace(u.FirstName+" "+u.LastName)) + `</userFullName>`)
	b.WriteString(`<userId>` + esc(u.ID) + `</userId>`)
	b.WriteString(`<userName>` + esc(u.Username) + `</userName>`)
	b.WriteString(`</userInfo></result></loginResponse>`)
	writeSOAP(c, b.String())
}

const soapEnvelopeOpen = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>`
const soapEnvelopeClose = `</soapenv:Body></soapenv:Envelope>`

func writeSOAP(c *call, body string) {
	c.w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	c.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(c.w, soapEnvelopeOpen+body+soapEnvelopeClose)
}

// writeSOAPFault answers 500 with a SOAP fault, as the partner API does for
// every failed call.
func writeSOAPFault(c *call, code, msg string) {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	c.w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	c.w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(c.w, soapEnvelopeOpen+`<soapenv:Fault><faultcode>`+code+`</faultcode><faultstring>`+b.String()+`</faultstring></soapenv:Fault>`+soapEnvelopeClose)
}

// writeSOAPLoginFault answers a failed login as the partner API does: the
// code in faultcode and faultstring, and again in a typed LoginFault detail
// (<sf:exceptionCode>, <sf:exceptionMessage>) that clients such as
// simple-salesforce and the Java WSC read. Shape as recorded in public test
// fixtures and logs of real login failures (docs/emulator.md, "SOAP login").
func writeSOAPLoginFault(c *call, code, msg string) {
	var m strings.Builder
	_ = xml.EscapeText(&m, []byte(msg))
	c.w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	c.w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(c.w, soapEnvelopeOpen+`<soapenv:Fault><faultcode>sf:`+code+`</faultcode><faultstring>`+code+`: `+m.String()+
		`</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>`+code+
		`</sf:exceptionCode><sf:exceptionMessage>`+m.String()+`</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>`+soapEnvelopeClose)
}
