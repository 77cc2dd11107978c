package tools

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/extract/extracttest"
)

// attachment finds an attachment of the sample mailbox by name, the way a
// model does: search_mail, then list_attachments.
func (h *harness) attachment(name string) (messageID string, a AttachmentInfo) {
	h.t.Helper()
	var found SearchMailResult
	h.ok("search_mail", map[string]any{"has_attachments": true, "limit": 50}, &found)
	for _, m := range found.Messages {
		var list ListAttachmentsResult
		h.ok("list_attachments", map[string]any{"message_id": m.ID}, &list)
		for _, a := range list.Attachments {
			if a.Name == name {
				return m.ID, a
			}
		}
	}
	h.t.Fatalf("no attachment %q in the sample mailbox", name)
	return "", AttachmentInfo{}
}

func (h *harness) read(name string, args map[string]any) (*mcp.CallToolResult, ReadAttachmentResult) {
	h.t.Helper()
	mid, a := h.attachment(name)
	if args == nil {
		args = map[string]any{}
	}
	args["message_id"], args["attachment_id"] = mid, a.ID
	var out ReadAttachmentResult
	h.ok("read_attachment", args, &out)
	return h.call("read_attachment", args), out
}

func TestListAttachmentsNeverPullsContents(t *testing.T) {
	h := newHarness(t)
	mid, _ := h.attachment("Onboarding-flow-v5.pdf")

	var res ListAttachmentsResult
	text := h.ok("list_attachments", map[string]any{"message_id": mid}, &res)
	require.Len(t, res.Attachments, 2)
	pdf, png := res.Attachments[0], res.Attachments[1]
	assert.Equal(t, "Onboarding-flow-v5.pdf", pdf.Name)
	assert.Equal(t, "application/pdf", pdf.ContentType)
	assert.Equal(t, "file", pdf.Kind)
	assert.Positive(t, pdf.Size)
	assert.True(t, png.IsInline)

	req := h.lastGraph("/v1.0/me/messages/")
	assert.True(t, strings.HasSuffix(req.Path, "/attachments"), req.Path)
	assert.Equal(t, "id,name,contentType,size,isInline", req.Query.Get("$select"), "never contentBytes in a list")
	assert.Contains(t, req.Header.Get("Prefer"), `IdType="ImmutableId"`)
	assert.Contains(t, text, "Onboarding-flow-v5.pdf (application/pdf, 1 KB), id "+pdf.ID)
	assert.Contains(t, text, "image001.png (image/png")
	assert.Contains(t, text, "[inline]")
}

func TestListAttachmentsNamesAttachedItemsAndLinks(t *testing.T) {
	h := newHarness(t)
	_, item := h.attachment("RE: MOU - final wording")
	assert.Equal(t, "item", item.Kind)
	assert.Empty(t, item.ContentType, "Graph gives an attached item no content type")
	_, link := h.attachment("Interview recording.mp4")
	assert.Equal(t, "reference", link.Kind)
}

func TestReadAttachmentExtractsPDFText(t *testing.T) {
	h := newHarness(t)
	res, out := h.read("Onboarding-flow-v5.pdf", nil)

	assert.Equal(t, "pdf", out.Format)
	assert.Equal(t, "Onboarding flow v5\nStep 1: Sign in with your work account.\nStep 2: Name your workspace.\nStep 3: Invite your team (up to 20 people).\n\n"+
		"Open questions\nShould SSO be required for Enterprise tenants?\nDrop-off after step 2 fell from 31% to 18% in v5.", out.Content, "both pages, in order")
	assert.Zero(t, out.NextOffset)
	assert.Contains(t, unmarked(textOf(res)), "⟦data M⟧Onboarding-flow-v5.pdf (application/pdf, 1 KB)⟦end M⟧\n⟦data M⟧\nOnboarding flow v5\nStep 1")

	// The metadata first, with $select; then the bytes.
	reqs := h.graph("/v1.0/me/messages/")
	meta, value := reqs[len(reqs)-2], reqs[len(reqs)-1]
	assert.Equal(t, "id,name,contentType,size,isInline", meta.Query.Get("$select"))
	assert.True(t, strings.HasSuffix(value.Path, "/$value"), value.Path)
	assert.Contains(t, value.Header.Get("Prefer"), `IdType="ImmutableId"`)
}

func TestReadAttachmentExtractsWordText(t *testing.T) {
	h := newHarness(t)
	_, out := h.read("Q4 Plan - Atlas v3.docx", nil)

	assert.Equal(t, "docx", out.Format)
	assert.Equal(t, "Q4 Plan – Atlas v3\nGoal: Atlas GA on 12 December, with tenant-level rate limiting.\nOwners:\tPriya (API), Tomás (billing)\n"+
		"Budget: $1.4M for Q4.\nRisks: EU data residency review; on-call staffing over the holidays.", out.Content,
		"paragraphs and tabs; the text a tracked change deleted is left out")
}

func TestReadAttachmentReadsTextFormats(t *testing.T) {
	h := newHarness(t)
	_, csv := h.read("churn-by-segment.csv", nil)
	assert.Equal(t, "text", csv.Format)
	assert.True(t, strings.HasPrefix(csv.Content, "segment,tenants,churned,churn_rate,first_session_success\nEnterprise,42,3,7.1%,yes\n"), csv.Content)

	_, ics := h.read("MT7QX2 flights.ics", nil)
	assert.Equal(t, "calendar", ics.Format)
	assert.Contains(t, ics.Content, "SUMMARY:Flight LHR → SFO (booking MT7QX2)")
	assert.Contains(t, ics.Content, `DESCRIPTION:Outbound flight\, London Heathrow to San Francisco. Check in online 24 hours before departure.`, "folded lines are unfolded")
}

func TestReadAttachmentPagesByOffset(t *testing.T) {
	h := newHarness(t)
	_, whole := h.read("Onboarding-flow-v5.pdf", nil)

	var pages []string
	args := map[string]any{"max_chars": 50}
	for offset := 0; ; {
		args["offset"] = offset
		res, out := h.read("Onboarding-flow-v5.pdf", args)
		assert.LessOrEqual(t, len([]rune(out.Content)), 50)
		pages = append(pages, out.Content)
		if out.NextOffset == 0 {
			assert.NotContains(t, textOf(res), "offset=")
			break
		}
		assert.Greater(t, out.NextOffset, offset)
		assert.LessOrEqual(t, out.NextOffset, offset+50, "a page ends at a clean boundary within max_chars")
		assert.Contains(t, textOf(res), "call again with offset="+strconv.Itoa(out.NextOffset))
		offset = out.NextOffset
	}
	assert.GreaterOrEqual(t, len(pages), (len([]rune(whole.Content))+49)/50)
	assert.Equal(t, whole.Content, strings.Join(pages, ""), "the pages put together are the whole text")

	mid, a := h.attachment("Onboarding-flow-v5.pdf")
	msg := h.fails("read_attachment", map[string]any{"message_id": mid, "attachment_id": a.ID, "offset": 5000})
	assert.Contains(t, msg, `Invalid argument "offset": is past the end: the text has `+strconv.Itoa(len([]rune(whole.Content)))+" characters")
}

func TestReadAttachmentRejectsBadArgumentsWithoutCallingGraph(t *testing.T) {
	h := newHarness(t)
	mid, a := h.attachment("Onboarding-flow-v5.pdf")
	before := len(h.graph("/"))
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"offset": -1}, `Invalid argument "offset": must be 0 or more, not -1`},
		{map[string]any{"offset": 10_000_000}, `Invalid argument "offset": must be between 0 and 9999999`},
		{map[string]any{"max_chars": -5}, `Invalid argument "max_chars": must be between 1 and 100000, not -5`},
		{map[string]any{"max_chars": 100_001}, `Invalid argument "max_chars": must be between 1 and 100000, not 100001`},
		{map[string]any{"max_chars": "lots"}, `Invalid argument "max_chars": must be an integer`},
		{map[string]any{"attachment_id": ""}, `Invalid argument "attachment_id": is required`},
		{map[string]any{"attachment_id": " .. "}, `Invalid argument "attachment_id": ".." is not an attachment id`},
		{map[string]any{"message_id": strings.Repeat("A", 600)}, `Invalid argument "message_id": is too long to be a message id`},
	} {
		args := map[string]any{"message_id": mid, "attachment_id": a.ID}
		for k, v := range tc.args {
			args[k] = v
		}
		assert.Contains(t, h.fails("read_attachment", args), tc.want)
	}
	assert.Len(t, h.graph("/"), before, "bad input never reaches Graph")
}

func TestReadAttachmentRefusesHostileIDs(t *testing.T) {
	h := newHarness(t)
	mid, _ := h.attachment("Onboarding-flow-v5.pdf")
	before := len(h.graph("/"))
	msg := h.fails("read_attachment", map[string]any{"message_id": mid, "attachment_id": "../../sendMail?x=${secret}#top"})
	assert.Contains(t, msg, `Invalid argument "attachment_id"`)
	assert.Contains(t, msg, "is not an attachment id")
	assert.Len(t, h.graph("/"), before, "nothing reaches Graph")
}

func TestReadAttachmentReturnsABinaryFileAsABlobResource(t *testing.T) {
	h := newHarness(t)
	res, out := h.read("image001.png", nil)

	assert.Empty(t, out.Format)
	assert.Empty(t, out.Content)
	var blob *mcp.BlobResourceContents
	for _, c := range res.Content {
		if r, ok := c.(mcp.EmbeddedResource); ok {
			b, isBlob := r.Resource.(mcp.BlobResourceContents)
			require.True(t, isBlob, "%T", r.Resource)
			blob = &b
		}
	}
	require.NotNil(t, blob, "an embedded resource")
	assert.Equal(t, "image/png", blob.MIMEType)
	assert.Equal(t, out.ResourceURI, blob.URI)
	assert.Equal(t, "outlook://attachments/"+out.ID, blob.URI, "named by the attachment's handle")
	data, err := base64.StdEncoding.DecodeString(blob.Blob)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")))

	text := textOf(res)
	assert.Contains(t, text, "image001.png (image/png, 262 B) [inline]")
	assert.Contains(t, text, "The file's bytes follow as an embedded resource")
	assert.NotContains(t, text, blob.Blob[:24], "no base64 in the text")
	assert.NotContains(t, text, "iVBORw0KGgo")
}

func TestReadAttachmentDescribesAttachedItemsWithoutDownloading(t *testing.T) {
	h := newHarness(t)
	res, out := h.read("RE: MOU - final wording", nil)
	assert.Equal(t, "item", out.Kind)
	assert.Empty(t, out.Content)
	text := textOf(res)
	assert.Contains(t, text, "RE: MOU - final wording (attached Outlook item, e.g. an email")
	assert.Contains(t, text, "not a file: read_attachment reads only file attachments")

	res, _ = h.read("Interview recording.mp4", nil)
	assert.Contains(t, textOf(res), "a link to a file in the cloud")
	for _, r := range h.graph("/v1.0/me/messages/") {
		assert.False(t, strings.HasSuffix(r.Path, "/$value"), "no bytes asked for: %s", r.Path)
	}
}

func TestReadAttachmentRefusesAnOversizedFileWithoutDownloading(t *testing.T) {
	h := newHarness(t)
	mid, a := h.attachment("atlas-beta-events-raw.csv")
	require.Greater(t, a.Size, 25<<20)

	msg := h.fails("read_attachment", map[string]any{"message_id": mid, "attachment_id": a.ID})
	assert.Equal(t, `read_attachment: ⟦data M⟧atlas-beta-events-raw.csv⟦end M⟧ is 26.0 MB; read_attachment downloads at most 25.0 MB to extract text. Nothing was downloaded: the user can open it in Outlook.`, unmarked(msg), "the sender's file name fenced")
	assert.False(t, strings.HasSuffix(h.lastGraph("/v1.0/me/messages/").Path, "/$value"), "the size was checked first")
}

func TestReadAttachmentNeedsMailRead(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.ReadBasic"))
	msg := h.fails("read_attachment", map[string]any{"message_id": "AAMkAGI2TG93AAA=", "attachment_id": "AAMkAGI2TG93AAA="})
	assert.Contains(t, msg, "read_attachment needs the Microsoft Graph delegated permission Mail.Read")
	assert.Empty(t, h.graph("/v1.0/me/messages"))
}

func TestReadAttachmentReportsAnUnreadableFile(t *testing.T) {
	h := newHarness(t)
	// A file called PDF whose bytes are no PDF: the sample mailbox has none.
	require.NoError(t, h.sim.AddMessage([]byte(`{"id": "AAMkAGJyb2tlbi1wZGY=", "folder": "inbox", "receivedDateTime": "-1m",
		"from": "Mallory <mallory@example.net>", "subject": "Scan", "body": "<p>Scanned.</p>",
		"attachments": [{"name": "scan.pdf", "contentType": "application/pdf", "contentBytes": "`+base64.StdEncoding.EncodeToString([]byte("%PDF-1.7\nnot really\n%%EOF\n"))+`"}]}`)))
	mid, a := h.attachment("scan.pdf")
	msg := h.fails("read_attachment", map[string]any{"message_id": mid, "attachment_id": a.ID})
	assert.True(t, strings.HasPrefix(unmarked(msg), `read_attachment: cannot read the text of ⟦data M⟧scan.pdf⟦end M⟧: not a readable PDF (`), msg)
}

// Every file the sample mailbox holds is real: read_attachment reads each
// one's text (or returns its bytes), and none is a placeholder.
func TestEverySampleAttachmentIsReal(t *testing.T) {
	h := newHarness(t)
	// The words each mail promises its file holds; nil for a binary file,
	// whose bytes come back. Any other file must read as text.
	promised := map[string][]string{
		"Tailspin - Atlas feedback notes.pdf":          {"webhook retries", "key rotation", "sandbox limits"},
		"Onboarding-flow-v5.pdf":                       {"Onboarding flow v5"},
		"Atlas pricing v7.pdf":                         {"$0.80 per 10k calls", "15%"},
		"E-ticket MT7QX2.pdf":                          {"MT7QX2", "LHR"},
		"Northwind-Contoso MOU (signed).pdf":           {"30 days' notice"},
		"Fabrikam DPA - redline.docx":                  {"7.2", "60 days", "support access logs"},
		"Q4 Plan - Atlas v3.docx":                      {},
		"MT7QX2 flights.ics":                           {"LHR"},
		"churn-by-segment.csv":                         {"segment,tenants,churned"},
		"FY27 Planning Template - Cloud Platform.xlsx": nil,
		"atlas-beta-churn-analysis.xlsx":               nil,
		"image001.png":                                 nil,
		"image002.png":                                 nil,
	}
	var found SearchMailResult
	h.ok("search_mail", map[string]any{"has_attachments": true, "limit": 50}, &found)
	seen := map[string]bool{}
	for _, m := range found.Messages {
		var list ListAttachmentsResult
		h.ok("list_attachments", map[string]any{"message_id": m.ID}, &list)
		for _, a := range list.Attachments {
			seen[a.Name] = true
			if a.Kind != "file" || a.Size > 25<<20 {
				continue // a link or an attached email is described; an oversized file is refused unread (tested above)
			}
			args := map[string]any{"message_id": m.ID, "attachment_id": a.ID}
			var out ReadAttachmentResult
			h.ok("read_attachment", args, &out)
			words, known := promised[a.Name]
			if known && words == nil {
				res := h.call("read_attachment", args)
				require.Len(t, res.Content, 2, a.Name)
				blob, err := base64.StdEncoding.DecodeString(res.Content[1].(mcp.EmbeddedResource).Resource.(mcp.BlobResourceContents).Blob)
				require.NoError(t, err)
				switch {
				case strings.HasSuffix(a.Name, ".png"):
					_, err = png.Decode(bytes.NewReader(blob))
					assert.NoError(t, err, "%s is a real PNG", a.Name)
				default:
					zr, err := zip.NewReader(bytes.NewReader(blob), int64(len(blob)))
					require.NoError(t, err, "%s is a real Office file", a.Name)
					names := []string{}
					for _, f := range zr.File {
						names = append(names, f.Name)
					}
					assert.Contains(t, names, "xl/worksheets/sheet1.xml", a.Name)
				}
				continue
			}
			assert.NotEmpty(t, out.Format, a.Name)
			assert.NotEqual(t, "The file holds no text.", out.Note, a.Name)
			assert.Greater(t, len(strings.Fields(out.Content)), 3, "%s: real text, not a placeholder: %q", a.Name, out.Content)
			assert.NotEqual(t, a.Name, strings.TrimSpace(out.Content), a.Name)
			for _, w := range words {
				assert.Contains(t, strings.ToLower(out.Content), strings.ToLower(w), a.Name)
			}
		}
	}
	for name := range promised {
		assert.True(t, seen[name], "%s is in the sample mailbox", name)
	}
}

func TestReadAttachmentRefusesAHostilePDFSafely(t *testing.T) {
	h := newHarness(t)
	// Two of the files that took the server down before extraction ran in
	// a sandbox (extract's own tests cover all four, under small limits).
	want := map[string]string{
		"objstm-cycle": "its reader crashed (stack overflow: the file's objects nest or refer to each other without end)",
		"xref-size":    "it needed too much memory (more than 512 MB), so it was stopped",
	}
	require.NoError(t, h.sim.AddMessage(extracttest.HostileMessage("AAMkAGhvc3RpbGUtcGRmcw==", "objstm-cycle", "xref-size")))

	for name, reason := range want {
		mid, a := h.attachment(name + ".pdf")
		start := time.Now()
		text := h.fails("read_attachment", map[string]any{"message_id": mid, "attachment_id": a.ID})
		assert.Equal(t, `read_attachment: this PDF (⟦data M⟧`+name+`.pdf⟦end M⟧) could not be read safely: `+reason+". The user can open it in Outlook.", unmarked(text))
		assert.Less(t, time.Since(start), 5*time.Second)
	}
	// The server carries on.
	_, out := h.read("Onboarding-flow-v5.pdf", nil)
	assert.True(t, strings.HasPrefix(out.Content, "Onboarding flow v5"), out.Content)
}
