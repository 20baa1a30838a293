package emulator

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// HTTP compression as Salesforce serves it: a response is compressed when
// the request's Accept-Encoding allows gzip (or deflate), and a request body
// sent with Content-Encoding gzip or deflate is read decompressed, on every
// API (REST, Collections, Composite, query, Bulk 2.0 uploads and results).
// Salesforce's REST guide ("Compression headers") documents both directions.

// compressMin is the smallest response body worth compressing: smaller
// answers (ids, errors, 201 create results) go as they are, which is also
// what Salesforce's front end does with tiny bodies. UNCONFIRMED threshold.
const compressMin = 1024

// maxDecodedBody bounds a decompressed request body, so a small gzip bomb
// cannot make the emulator allocate without limit: the largest body any
// resource accepts (a Bulk upload) plus slack.
const maxDecodedBody = maxBulkUpload + 1<<20

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// decodeRequestBody replaces a compressed request body by its decompressed
// stream. It answers 415 for an encoding it does not know (400 for a
// broken stream) through refuse and reports whether the request may go on.
func decodeRequestBody(r *http.Request, refuse func(status int, code, msg string)) bool {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc == "" || enc == "identity" {
		return true
	}
	// Clients that compress every request (go-salesforce's compression
	// option) send the header on GETs too: an empty body stays empty.
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); err == io.EOF {
		r.Header.Del("Content-Encoding")
		return true
	}
	var body io.Reader
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			refuse(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid gzip data: "+err.Error())
			return false
		}
		body = zr
	case "deflate":
		// HTTP's deflate is zlib-wrapped, yet some clients send raw
		// DEFLATE: tell them apart by the zlib header.
		if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (int(h[0])<<8|int(h[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				refuse(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid deflate data: "+err.Error())
				return false
			}
			body = zr
		} else {
			body = flate.NewReader(br)
		}
	default:
		refuse(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"Content-Encoding '"+enc+"' is not supported; use gzip or deflate")
		return false
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{&limitedDecoder{r: body, left: maxDecodedBody}, r.Body}
	r.Header.Del("Content-Encoding")
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	return true
}

// refuseBody answers a request whose body cannot be read, before any route
// sees it. Under /services/data/vNN.N the session is checked and the call
// counted first, as for every other error there (serveRoute's failEarly):
// the answer carries Sforce-Limit-Info, or is the 401 of a missing session.
func (e *Emulator) refuseBody(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	c := &call{e: e, w: w, r: r}
	if p := r.URL.Path; strings.HasPrefix(p, "/services/data/") && len(p) > len("/services/data/") && !e.authorizeCall(c) {
		return
	}
	c.writeError(status, code, msg, nil)
}

// limitedDecoder fails a decompressed stream that grows past left bytes.
type limitedDecoder struct {
	r    io.Reader
	left int64
}

var errDecodedTooLarge = errors.New("the decompressed request body is too large")

func (l *limitedDecoder) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errDecodedTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// acceptedEncoding picks the response encoding Accept-Encoding allows:
// "gzip", "deflate" or "".
func acceptedEncoding(r *http.Request) string {
	ae := r.Header.Get("Accept-Encoding")
	if ae == "" || r.Method == http.MethodHead {
		return ""
	}
	best := ""
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch name {
		case "gzip", "x-gzip", "*":
			return "gzip"
		case "deflate":
			best = "deflate"
		}
	}
	return best
}

// compressWriter compresses a response once it is known to be large
// enough: the first compressMin bytes are held back; a response that ends
// below that goes out plain.
type compressWriter struct {
	http.ResponseWriter
	enc    string
	status int
	buf    []byte
	zw     io.WriteCloser // nil until compressing
	gz     *gzip.Writer   // pooled, when enc is gzip
	plain  bool           // decided: no compression
	wrote  bool           // headers sent
}

func (cw *compressWriter) WriteHeader(status int) {
	if cw.status != 0 {
		return
	}
	cw.status = status
	h := cw.Header()
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified ||
		h.Get("Content-Encoding") != "" || h.Get("Content-Type") == "" {
		cw.plain = true
		cw.wrote = true
		cw.ResponseWriter.WriteHeader(status)
	}
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	if cw.status == 0 {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.plain {
		return cw.ResponseWriter.Write(p)
	}
	if cw.zw != nil {
		return cw.zw.Write(p)
	}
	cw.buf = append(cw.buf, p...)
	if len(cw.buf) >= compressMin {
		if err := cw.start(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// start sends the headers of a compressed answer and the held-back bytes.
func (cw *compressWriter) start() error {
	h := cw.Header()
	h.Set("Content-Encoding", cw.enc)
	h.Del("Content-Length")
	h.Add("Vary", "Accept-Encoding")
	cw.wrote = true
	cw.ResponseWriter.WriteHeader(cw.status)
	if cw.enc == "gzip" {
		cw.gz = gzipWriters.Get().(*gzip.Writer)
		cw.gz.Reset(cw.ResponseWriter)
		cw.zw = cw.gz
	} else {
		zw, _ := zlib.NewWriterLevel(cw.ResponseWriter, zlib.BestSpeed)
		cw.zw = zw
	}
	buf := cw.buf
	cw.buf = nil
	_, err := cw.zw.Write(buf)
	return err
}

// Flush sends what is compressed so far (streamed Bulk results).
func (cw *compressWriter) Flush() {
	if !cw.plain && cw.zw == nil && cw.status != 0 {
		_ = cw.start()
	}
	if f, ok := cw.zw.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	http.NewResponseController(cw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (fault
// injection hijacks it before anything is written).
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// Hijack is offered for callers that type-assert rather than use
// ResponseController.
func (cw *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(cw.ResponseWriter).Hijack()
}

// finish ends the answer: closes the compressor, or sends a small body plain.
func (cw *compressWriter) finish() {
	switch {
	case cw.zw != nil:
		_ = cw.zw.Close()
		if cw.gz != nil {
			cw.gz.Reset(io.Discard)
			gzipWriters.Put(cw.gz)
		}
	case cw.plain:
	case cw.status == 0 && len(cw.buf) == 0:
		// The handler wrote nothing at all: net/http answers 200.
	default:
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		cw.Header().Set("Content-Length", strconv.Itoa(len(cw.buf)))
		cw.ResponseWriter.WriteHeader(cw.status)
		_, _ = cw.ResponseWriter.Write(cw.buf)
	}
}

// withCompression wraps w when the client accepts compression; done must
// run after the handler.
func withCompression(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	enc := acceptedEncoding(r)
	if enc == "" {
		return w, func() {}
	}
	cw := &compressWriter{ResponseWriter: w, enc: enc}
	return cw, cw.finish
}
