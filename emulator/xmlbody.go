package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// XML request bodies: Salesforce's REST API takes application/xml as well
// as JSON for sObject writes. A record is one element (named after the
// object, or anything: Salesforce reads only the children) whose child
// elements are fields: <Lead><LastName>Ng</LastName><Company>Acme</Company></Lead>.
// Values are text, typed by the field as Bulk CSV values are;
// xsi:nil="true" sets null. Answers stay JSON unless the client asks
// otherwise (the emulator writes JSON only).

// isXMLContent reports whether a Content-Type names XML.
func isXMLContent(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "/xml") || strings.Contains(ct, "+xml")
}

// readXMLRecord decodes an XML record body into out; it answers 400
// (XML_PARSER_ERROR, UNCONFIRMED code) and returns false on bad XML.
func (c *call) readXMLRecord(out *map[string]any) bool {
	body, err := readBody(c.r, maxJSONBody)
	if err != nil {
		c.writeError(http.StatusRequestEntityTooLarge, "XML_PARSER_ERROR", err.Error(), nil)
		return false
	}
	rec, err := parseXMLRecord(body)
	if err != nil {
		c.writeError(http.StatusBadRequest, "XML_PARSER_ERROR", err.Error(), nil)
		return false
	}
	*out = rec
	return true
}

// parseXMLRecord reads one record element: its child elements are fields.
func parseXMLRecord(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("The HTTP entity body is required, but this request has no entity body.")
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	rec := map[string]any{}
	depth := 0
	var name string
	var text strings.Builder
	isNil := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("Unable to parse the XML body: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 2:
				name, isNil = t.Name.Local, false
				text.Reset()
				for _, a := range t.Attr {
					if a.Name.Local == "nil" && strings.EqualFold(a.Value, "true") {
						isNil = true
					}
				}
			case 3:
				return nil, fmt.Errorf("Unable to parse the XML body: field %s holds nested elements", name)
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 2 {
				if _, dup := rec[name]; dup {
					return nil, fmt.Errorf("Unable to parse the XML body: duplicate field %s", name)
				}
				switch {
				case isNil:
					rec[name] = nil
				case name == "attributes":
					// {"attributes":{...}} has no XML twin worth reading.
				default:
					rec[name] = csvString(text.String())
				}
			}
			depth--
		}
	}
	if depth != 0 {
		return nil, errors.New("Unable to parse the XML body: unexpected end of document")
	}
	return rec, nil
}
