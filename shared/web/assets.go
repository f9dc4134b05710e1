package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assetFiles embed.FS

// asset is one static file, served under a name that carries a digest of
// its content, so that it can be cached for a year and still never be
// stale.
type asset struct {
	body, gz    []byte
	contentType string
}

// assets maps logical names (app.css) to hashed names (app.3f2a9c1b04.css)
// and hashed names to the files.
type assets struct {
	names map[string]string
	files map[string]asset
}

func loadAssets() (*assets, error) {
	a := &assets{names: map[string]string{}, files: map[string]asset{}}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		a.names[name] = "/assets/" + hashed
		a.files[hashed] = asset{body: body, gz: gz.Bytes(), contentType: mime.TypeByExtension(ext)}
		return nil
	})
	return a, err
}

// url returns the address of a logical asset name.
func (a *assets) url(name string) string {
	if u, ok := a.names[name]; ok {
		return u
	}
	panic("web: no asset " + name)
}

// serve answers /assets/{file}: only hashed names exist.
func (a *assets) serve(w http.ResponseWriter, r *http.Request) bool {
	f, ok := a.files[r.PathValue("file")]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	body := f.body
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	_, _ = w.Write(body)
	return true
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc == "gzip" {
			return true
		}
	}
	return false
}
