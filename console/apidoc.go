package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// apiDoc is the OpenAPI document as the API page shows it.
type apiDoc struct {
	Title, Summary, Description string
	Operations                  []apiOperation
	Schemas                     []apiSchema
}

type apiOperation struct {
	Method, Path, ID, Summary, Description string
	Public                                 bool
	Params                                 []string
	Body                                   string
	Responses                              []string
}

type apiSchema struct{ Name, JSON string }

// parseAPIDoc reads the parts of an OpenAPI 3.1 document the page shows.
func parseAPIDoc(raw []byte) (*apiDoc, error) {
	type param struct {
		Ref         string `json:"$ref"`
		Name        string `json:"name"`
		In          string `json:"in"`
		Required    bool   `json:"required"`
		Description string `json:"description"`
	}
	type op struct {
		OperationID string            `json:"operationId"`
		Summary     string            `json:"summary"`
		Description string            `json:"description"`
		Security    *[]map[string]any `json:"security"`
		Parameters  []param           `json:"parameters"`
		RequestBody *struct {
			Content map[string]json.RawMessage `json:"content"`
		} `json:"requestBody"`
		Responses map[string]struct {
			Ref         string `json:"$ref"`
			Description string `json:"description"`
		} `json:"responses"`
	}
	var d struct {
		Info struct {
			Title, Summary, Description string
		} `json:"info"`
		Paths      map[string]map[string]op `json:"paths"`
		Components struct {
			Parameters map[string]param           `json:"parameters"`
			Schemas    map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := &apiDoc{Title: d.Info.Title, Summary: d.Info.Summary, Description: d.Info.Description}
	for _, path := range slices.Sorted(mapsKeys(d.Paths)) {
		for _, method := range []string{"get", "post", "put", "patch", "delete"} {
			o, ok := d.Paths[path][method]
			if !ok {
				continue
			}
			ao := apiOperation{Method: strings.ToUpper(method), Path: path, ID: o.OperationID, Summary: o.Summary,
				Description: o.Description, Public: o.Security != nil && len(*o.Security) == 0}
			for _, p := range o.Parameters {
				if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					p = d.Components.Parameters[name]
				}
				s := p.Name + " (" + p.In
				if p.Required {
					s += ", required"
				}
				s += ")"
				if p.Description != "" {
					s += ": " + p.Description
				}
				ao.Params = append(ao.Params, s)
			}
			if o.RequestBody != nil {
				ao.Body = strings.Join(slices.Sorted(mapsKeys(o.RequestBody.Content)), ", ")
			}
			for _, code := range slices.Sorted(mapsKeys(o.Responses)) {
				r := o.Responses[code]
				desc := r.Description
				if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
					desc = name
				}
				ao.Responses = append(ao.Responses, code+" "+desc)
			}
			out.Operations = append(out.Operations, ao)
		}
	}
	for _, name := range slices.Sorted(mapsKeys(d.Components.Schemas)) {
		var v any
		_ = json.Unmarshal(d.Components.Schemas[name], &v)
		b, _ := json.MarshalIndent(v, "", "  ")
		out.Schemas = append(out.Schemas, apiSchema{Name: name, JSON: string(b)})
	}
	return out, nil
}

func (c *Console) handleAPIDoc(w http.ResponseWriter, r *http.Request) {
	if len(c.cfg.OpenAPI) == 0 {
		c.serverError(w, r, errNotServed("the API description"))
		return
	}
	doc, err := parseAPIDoc(c.cfg.OpenAPI)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "api.html", &pageData{Title: "REST API", Nav: "api", Page: doc})
}
