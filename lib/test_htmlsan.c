/* htmlsan: a table of input -> exact output per attack class (script,
 * event handlers, URL schemes and their obfuscations, CSS, comments and
 * CDATA, raw-text and foreign elements, parser confusion in the style of
 * the OWASP XSS filter evasion cheat sheet, written here from scratch),
 * then properties: every prefix of every input gives well-formed output
 * with only allowed names in it; limits cut cleanly; time is linear. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "buf.h"
#include "htmlsan.h"
#include "pool.h"
#include "testlib.h"

struct tcase {
	const char *in, *out;
};

static struct pool *p;

/* cid: -> /api/messages/7/cid/<id>; "missing@x" has no image */
static int test_cid(void *arg, const char *id, size_t len, struct buf *out)
{
	(void)arg;
	if (len == 9 && memcmp(id, "missing@x", 9) == 0)
		return 0;
	if (buf_append_str(out, "/api/messages/7/cid/") < 0 || htmlsan_url_encode(out, id, len) < 0)
		return -1;
	return 1;
}

/* a callback that tries to break out of the attribute */
static int test_cid_evil(void *arg, const char *id, size_t len, struct buf *out)
{
	(void)arg, (void)id, (void)len;
	return buf_append_str(out, "x\" onerror=\"alert(1)") < 0 ? -1 : 1;
}

static struct htmlsan_opts opts = { .cid = test_cid, .remote_label = "[IMG]" };

/* n == SIZE_MAX: strlen(in) */
static char *clean_with(const char *in, size_t n, const struct htmlsan_opts *o, size_t max,
			struct htmlsan_stats *st)
{
	struct buf b;
	char *s;

	if (n == SIZE_MAX)
		n = strlen(in);
	buf_init(&b, max);
	if (htmlsan_clean(p, in, n, o, &b, st) < 0) {
		buf_free(&b);
		return NULL;
	}
	s = pool_strdup(p, b.data ? b.data : "");
	buf_free(&b);
	return s;
}

static char *clean(const char *in)
{
	return clean_with(in, strlen(in), &opts, 1 << 20, NULL);
}

static void run_table(const struct tcase *t, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *got = clean(t[k].in);

		if (got == NULL || strcmp(got, t[k].out) != 0) {
			printf("  FAIL case %zu\n    in       \"%s\"\n    got      \"%s\"\n"
			       "    expected \"%s\"\n", k, t[k].in, got ? got : "(null)", t[k].out);
			testlib_case_failed = 1;
		}
	}
}

#define TABLE(t) run_table(t, sizeof(t) / sizeof(t[0]))
#define LINK " rel=\"noopener noreferrer\" target=\"_blank\""
#define PH "<span style=\"border: 1px dashed #888; color: #555; padding: 0 2px\" title=\""

static const struct tcase t_script[] = {
	{ "<p>hi <b>there</b></p><script>alert(1)</script>x", "<p>hi <b>there</b></p>x" },
	{ "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>ok", "ok" },
	{ "<script>var a = \"</scriptx>\"; alert(1)</script >ok", "ok" },
	{ "<ScRiPt>alert(1)</sCrIpT>ok", "ok" },
	{ "<SCRIPT/XSS SRC=\"http://xss.example/xss.js\"></SCRIPT>ok", "ok" },
	{ "<SCRIPT/SRC=\"http://xss.example/xss.js\"></SCRIPT>ok", "ok" },
	{ "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>", "&lt;" },
	{ "<SCRIPT SRC=http://xss.example/xss.js?< B >", "" },
	{ "<SCRIPT SRC=//xss.example/.j>", "" },
	{ "<script>alert(1)", "" },
	{ "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>", "" },
	{ "<SCRIPT a=\">\" SRC=\"httx://xss.example/xss.js\"></SCRIPT>ok", "ok" },
	{ "<SCRIPT =\">\" SRC=\"httx://xss.example/xss.js\"></SCRIPT>ok", "ok" },
	{ "<SCRIPT \"a='>'\" SRC=\"httx://xss.example/xss.js\"></SCRIPT>ok", "ok" },
	{ "<SCRIPT a=`>` SRC=\"httx://xss.example/xss.js\"></SCRIPT>ok", "ok" },
	{ "<SCRIPT>document.write(\"<SCRI\");</SCRIPT>PT SRC=\"httx://xss.example/xss.js\"></SCRIPT>",
	  "PT SRC=\"httx://xss.example/xss.js\"&gt;" },
	{ "<style>body{background:url(javascript:alert(1))}</style>ok", "ok" },
	{ "<STYLE>@import'http://xss.example/xss.css';</STYLE>ok", "ok" },
	{ "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
	  "<ul><li>XSS</li></ul>" },
	{ "<title>t</title><textarea><b>x</b></textarea><xmp><img src=x onerror=alert(1)></xmp>ok",
	  "ok" },
	{ "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>", "\"&gt;" },
	{ "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>ok", "ok" },
	{ "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>ok", "ok" },
	{ "<iframe src=http://xss.example/scriptlet.html <", "" },
	{ "<noembed><img src=x onerror=alert(1)></noembed><noframes>x</noframes>ok", "ok" },
	{ "<plaintext><b>x</b>", "&lt;b&gt;x&lt;/b&gt;" },
};

static const struct tcase t_events[] = {
	{ "<img src=x onerror=alert(1)>", "" },
	{ "<a onmouseover=\"alert(document.cookie)\">xxs link</a>", "<a>xxs link</a>" },
	{ "<b onclick=alert(1) ONMOUSEOVER='x' onfocus>b</b>", "<b>b</b>" },
	{ "<p/onclick=alert(1)>p</p>", "<p>p</p>" },
	{ "<BODY ONLOAD=alert('XSS')>x</BODY>", "x" },
	{ "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>x", "x" },
	{ "<IMG SRC=# onmouseover=\"alert('xxs')\">", "" },
	{ "<IMG SRC= onmouseover=\"alert('xxs')\">", "" },
	{ "<IMG onmouseover=\"alert('xxs')\">", "" },
	{ "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>", "" },
	{ "<img src=\"cid:a\" onerror=\"alert(1)\" onload=alert(2)>",
	  "<img src=\"/api/messages/7/cid/a\">" },
	{ "<img src=\"cid:a\"onerror=\"alert(1)\">", "<img src=\"/api/messages/7/cid/a\">" },
	{ "<div style=\"color:red\" onmouseenter=\"x\" on=\"y\" xonclick=\"z\">d</div>",
	  "<div style=\"color: red\">d</div>" },
	{ "<svg/onload=alert('XSS')>", "" },
	{ "<details open ontoggle=alert(1)>x</details>", "x" },
	{ "<marquee onstart=alert(1)>m</marquee>", "m" },
	{ "<video><source onerror=\"alert(1)\"></video>ok", "ok" },
	{ "<input autofocus onfocus=alert(1)><button onclick=x>Send</button>", "Send" },
};

static const struct tcase t_urls[] = {
	{ "<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"java&#x09;script:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"java&#9;script:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"jav&#x0D;ascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"jav\tascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"&#106;avascript:alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105"
	  "&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040"
	  "&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">x</a>",
	  "<a>x</a>" },
	{ "<a href=\"&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61\">x</a>",
	  "<a>x</a>" },
	{ "<a href=\"javascript&colon;alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"javascript&#58alert(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\" &#14;  javascript:alert('XSS');\">x</a>", "<a>x</a>" },
	{ "<a href=\"vbscript:msgbox(1)\">x</a>", "<a>x</a>" },
	{ "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>", "<a>x</a>" },
	{ "<a href=\"//www.example.com/\">x</a>", "<a>x</a>" },
	{ "<a href=\"/api/logout\">x</a>", "<a>x</a>" },
	{ "<a href=\"h\ntt p://6 6.000146.0x7.147/\">x</a>", "<a>x</a>" },
	{ "<a href=\"http:evil\">x</a>", "<a>x</a>" },
	{ "<a href=\"https://www.city.example.lg.jp/a?b=1&amp;c=2#d\">x</a>",
	  "<a href=\"https://www.city.example.lg.jp/a?b=1&amp;c=2#d\"" LINK ">x</a>" },
	{ "<A HREF=\"http://%77%77%77%2E%65%78%2E%6A%70\">x</A>",
	  "<a href=\"http://%77%77%77%2E%65%78%2E%6A%70\"" LINK ">x</a>" },
	{ "<a href=\" https://ex.jp/\n\">x</a>", "<a href=\"https://ex.jp/\"" LINK ">x</a>" },
	{ "<a href=\"mailto:info@city.example.jp?subject=%E5%95%8F\">m</a>",
	  "<a href=\"mailto:info@city.example.jp?subject=%E5%95%8F\"" LINK ">m</a>" },
	{ "<a href=\"https://ex.jp/&quot; onmouseover=&quot;alert(1)\">x</a>",
	  "<a href=\"https://ex.jp/&quot; onmouseover=&quot;alert(1)\"" LINK ">x</a>" },
	{ "<a href=\"https://ex.jp/\" target=\"_self\" ping=\"https://t.ex/\" rel=opener>x</a>",
	  "<a href=\"https://ex.jp/\"" LINK ">x</a>" },
	{ "<a href=\"https://a.ex/\" href=\"javascript:alert(1)\">x</a>",
	  "<a href=\"https://a.ex/\"" LINK ">x</a>" },
	{ "<a href=\"javascript:alert(1)\" href=\"https://a.ex/\">x</a>", "<a>x</a>" },
	{ "<a/href=\"https://a.ex/\">x</a>", "<a href=\"https://a.ex/\"" LINK ">x</a>" },
	{ "<p href=\"https://a.ex/\">x</p>", "<p>x</p>" },
	{ "<BASE HREF=\"javascript:alert('XSS');//\">ok", "ok" },
	{ "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">ok", "ok" },
	{ "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">ok", "ok" },
	{ "<form action=\"https://evil.ex/\"><input name=a>t</form>", "t" },
	{ "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TD BACKGROUND=\"x\">c", "<table><td>c</td></table>" },
	{ "<BODY BACKGROUND=\"javascript:alert('XSS')\">", "" },
	{ "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://xss.example/s.html\"></OBJECT>ok", "ok" },
	{ "<EMBED SRC=\"data:image/svg+xml;base64,PHN2Zz4=\" AllowScriptAccess=\"always\">ok", "ok" },
	{ "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>ok", "ok" },
	{ "<BGSOUND SRC=\"javascript:alert('XSS');\">ok", "ok" },
};

static const struct tcase t_images[] = {
	{ "<IMG SRC=\"javascript:alert('XSS');\">", "" },
	{ "<IMG SRC=JaVaScRiPt:alert('XSS')>", "" },
	{ "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>", "" },
	{ "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;>", "" },
	{ "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">", "" },
	{ "<IMG SRC=java\1script:alert(\"XSS\")>", "" },
	{ "<IMG SRC='vbscript:msgbox(\"XSS\")'>", "" },
	{ "<IMG DYNSRC=\"javascript:alert('XSS')\"><IMG LOWSRC=\"javascript:alert('XSS')\">", "" },
	{ "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">", "" },
	{ "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">", "" },
	{ "<img src=\"data:text/html,<script>alert(1)</script>\">", "" },
	{ "<img src=\"data:image/png,rawbytes\">", "" },
	{ "<img src=\"data:image/png;base64,iVBO&lt;\">", "" },
	{ "<img src=\"data:image/png;base64,iVBORw0K Gg==\" alt=\"dot\">",
	  "<img src=\"data:image/png;base64,iVBORw0KGg==\" alt=\"dot\">" },
	{ "<img src=\"DATA:IMAGE/GIF;BASE64,R0lGOD==\">", "<img src=\"data:image/gif;base64,R0lGOD==\">" },
	{ "<img src=\"data:image/jpeg;base64,/9j/\"><img src=\"data:image/webp;base64,UklG\">",
	  "<img src=\"data:image/jpeg;base64,/9j/\"><img src=\"data:image/webp;base64,UklG\">" },
	{ "<img alt=\"Logo\" width=120 height=\"40px\" src=\"cid:logo@city.example.jp\" border=0>",
	  "<img src=\"/api/messages/7/cid/logo@city.example.jp\" alt=\"Logo\" width=\"120\" "
	  "height=\"40px\" border=\"0\">" },
	{ "<img src=\"CID:part1.06090408.01060107%40example.jp\">",
	  "<img src=\"/api/messages/7/cid/part1.06090408.01060107@example.jp\">" },
	{ "<img src='cid:x\"y/z &amp;%'>", "<img src=\"/api/messages/7/cid/x%22y%2Fz%20%26%25\">" },
	{ "<img src=\"cid:missing@x\">", "" },
	{ "<img src=\"cid:\">", "" },
	{ "<IMG/SRC=\"cid:a\"/>", "<img src=\"/api/messages/7/cid/a\">" },
	{ "<img src = \"cid:a\" >", "<img src=\"/api/messages/7/cid/a\">" },
	{ "<img src=\"https://t.example/p.gif?u=1&amp;m=2\" width=1 height=1>",
	  PH "https://t.example/p.gif?u=1&amp;m=2\">[IMG]</span>" },
	{ "<img src=\"http://ex.jp/banner.png\" alt=\"区役所 &amp; 窓口\">",
	  PH "http://ex.jp/banner.png\">[IMG] 区役所 &amp; 窓口</span>" },
	{ "<img src=\"https://ex.jp/a.png\" srcset=\"https://ex.jp/b.png 2x\">",
	  PH "https://ex.jp/a.png\">[IMG]</span>" },
	{ "<img src=\"https:/\\evil.ex/a.png\">", "" },
	{ "<img src=\"ftp://ex.jp/a.png\">", "" },
	{ "<img src=\"a.png\">", "" },
	{ "<img>", "" },
};

static const struct tcase t_css[] = {
	{ "<p style=\"color: #ff0000; background-color: rgb(255, 0, 0)\">x</p>",
	  "<p style=\"color: #ff0000; background-color: rgb(255, 0, 0)\">x</p>" },
	{ "<p style=\"COLOR:Red;position:absolute;top:0\">x</p>", "<p style=\"color: Red\">x</p>" },
	{ "<p style=\"width: 100px; height: 50%; width: 10em; height: -1px\">x</p>",
	  "<p style=\"width: 100px; height: 50%\">x</p>" },
	{ "<p style=\"font-family: &quot;ＭＳ Ｐゴシック&quot;, sans-serif\">x</p>",
	  "<p style=\"font-family: &#39;ＭＳ Ｐゴシック&#39;, sans-serif\">x</p>" },
	{ "<p style=\"font-family: ＭＳ Ｐゴシック, Meiryo\">x</p>",
	  "<p style=\"font-family: ＭＳ Ｐゴシック, Meiryo\">x</p>" },
	{ "<p style=\"font: bold 12px/1.5 'Meiryo', sans-serif\">x</p>",
	  "<p style=\"font: bold 12px/1.5 &#39;Meiryo&#39;, sans-serif\">x</p>" },
	{ "<p style=\"color: red !IMPORTANT; margin: 0 auto; padding: 4px 8px\">x</p>",
	  "<p style=\"color: red; margin: 0 auto; padding: 4px 8px\">x</p>" },
	{ "<td style=\"border: 1px solid #ccc; border-collapse: collapse; text-align: center\">",
	  "<td style=\"border: 1px solid #ccc; border-collapse: collapse; text-align: center\"></td>" },
	{ "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">d</DIV>", "<div>d</div>" },
	{ "<DIV STYLE=\"background-color: url(javascript:alert('XSS'))\">d</DIV>", "<div>d</div>" },
	{ "<DIV STYLE=\"width: expression(alert('XSS'));\">d</DIV>", "<div>d</div>" },
	{ "<div style=\"color: expression(alert(1))\">d</div>", "<div>d</div>" },
	{ "<IMG SRC=\"cid:a\" STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
	  "<img src=\"/api/messages/7/cid/a\">" },
	{ "<div style=\"color: red /* x */\">d</div>", "<div>d</div>" },
	{ "<div style=\"color:red;/**/\">d</div>", "<div style=\"color: red\">d</div>" },
	{ "<div style=\"color: \\72 ed\">d</div>", "<div>d</div>" },
	{ "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\">d</DIV>",
	  "<div>d</div>" },
	{ "<div style=\"font-family: 'a\\27 ;b'\">d</div>", "<div>d</div>" },
	{ "<div style=\"color: red; } body { background: url(x)\">d</div>",
	  "<div style=\"color: red\">d</div>" },
	{ "<div style=\"width: calc(100% - 10px); color: var(--x); color: attr(x)\">d</div>",
	  "<div>d</div>" },
	{ "<div style=\"-moz-binding: url(x); behavior: url(x.htc)\">d</div>", "<div>d</div>" },
	{ "<XSS STYLE=\"behavior: url(xss.htc);\">x</XSS>", "x" },
	{ "<div style=\"color&colon;red; background&#58;url(x)\">d</div>",
	  "<div style=\"color: red\">d</div>" },
	{ "<div style=\"color: rgb(1,2,3) url(x)\">d</div>", "<div>d</div>" },
	{ "<div style=\"color: rgba(0,0,0,.5); border-radius: 4px\">d</div>",
	  "<div style=\"color: rgba(0,0,0,.5); border-radius: 4px\">d</div>" },
	{ "<div style=\"font-size: 12pt; line-height: 1.4; vertical-align: top\">d</div>",
	  "<div style=\"font-size: 12pt; line-height: 1.4; vertical-align: top\">d</div>" },
	{ "<div style=\"color: #12345g; color: @x; color: red<b>\">d</div>", "<div>d</div>" },
	{ "exp/*<A STYLE='no\\xss:noxss(\"*//*\"); xss:ex/*XSS*//*/*/pression(alert(\"XSS\"))'>",
	  "exp/*<a></a>" },
};

static const struct tcase t_comments[] = {
	{ "<!-- <script>alert(1)</script> -->text", "text" },
	{ "<!--> <b>x</b> -->", " <b>x</b> --&gt;" },
	{ "<!---> <b>x</b> -->", " <b>x</b> --&gt;" },
	{ "<!-- a --!><b>x</b>", "<b>x</b>" },
	{ "<!-- a ---><b>x</b>", "<b>x</b>" },
	{ "<!-- <b>unterminated", "" },
	{ "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings/></xml><![endif]-->ok", "ok" },
	{ "<!--[if !mso]><!--><b>x</b><!--<![endif]-->", "<b>x</b>" },
	{ "<![if !supportLists]><span>1.</span><![endif]>", "<span>1.</span>" },
	{ "<![CDATA[<script>alert(1)</script>]]>", "alert(1)]]&gt;" },
	{ "<![CDATA[x]]>ok", "ok" },
	{ "<?xml version=\"1.0\"?><?php echo 1 ?>ok", "ok" },
	{ "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">ok", "ok" },
	{ "<XML ID=\"xss\"><I><B><IMG SRC=\"javas<!-- -->cript:alert('XSS')\"></B></I></XML>",
	  "<i><b></b></i>" },
	{ "a</ b>c</>d</1>e", "acde" },
};

static const struct tcase t_foreign[] = {
	{ "<svg><g/onload=alert(1)></svg>ok", "ok" },
	{ "<svg/>ok", "ok" },
	{ "<svg><svg></svg>x</svg>ok", "ok" },
	{ "<svg><p>breakout</p></svg>", "<p>breakout</p>" },
	{ "<svg><style><img src=x onerror=alert(1)></style></svg>ok", "ok" },
	{ "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>ok", "ok" },
	{ "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<table></table>" },
	{ "<object data=\"x\"><p>fallback</p></object>ok", "ok" },
	{ "<select><option>a</option></select>ok", "ok" },
	{ "<template><img src=x onerror=alert(1)></template>ok", "ok" },
	{ "<applet code=x><b>a</b></applet><canvas>c</canvas><audio>a</audio>ok", "ok" },
};

static const struct tcase t_parser[] = {
	{ "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>", "\"\\&gt;" },
	{ "<IMG SRC=\"`<javascript:alert>`('XSS')\"", "" },
	{ "<a href=\"https://a.ex/", "" },
	{ "<b", "" },
	{ "x<", "x&lt;" },
	{ "x</", "x&lt;/" },
	{ "< b>", "&lt; b&gt;" },
	{ "<3 love", "&lt;3 love" },
	{ "<div<div>x", "x" },
	{ "<B>x</B><I>y</i>", "<b>x</b><i>y</i>" },
	{ "<o:p>x</o:p><custom-el onclick=x>y</custom-el>", "xy" },
	{ "<span title='\"><script>alert(1)</script>'>x</span>",
	  "<span title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">x</span>" },
	{ "<span title=a`b=c>x</span>", "<span title=\"a`b=c\">x</span>" },
	{ "<HTML><BODY><?xml:namespace prefix=\"t\"><?import namespace=\"t\">"
	  "<t:set attributeName=\"innerHTML\" to=\"XSS<SCRIPT DEFER>alert(\"XSS\")</SCRIPT>\">"
	  "</BODY></HTML>",
	  "\"&gt;" },
	{ "<META HTTP-EQUIV=\"Set-Cookie\" Content=\"USERID=<SCRIPT>alert('XSS')</SCRIPT>\">ok", "ok" },
	{ "<XML SRC=\"xsstest.xml\" ID=I></XML><SPAN DATASRC=#I DATAFLD=C DATAFORMATAS=HTML></SPAN>",
	  "<span></span>" },
	{ "<BR SIZE=\"&{alert('XSS')}\">", "<br>" },
};

static const struct tcase t_structure[] = {
	{ "<b><i>x</b>y</i>", "<b><i>x</i></b>y" },
	{ "</div></div>x", "x" },
	{ "<div><p>a<p>b</div>", "<div><p>a</p><p>b</p></div>" },
	{ "<p>a<div>b</div></p>", "<p>a</p><div>b</div>" },
	{ "<table><tr><td>a<td>b<tr><td>c</table>",
	  "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>" },
	{ "<ul><li>a<li>b</ul><dl><dt>t<dd>d</dl>",
	  "<ul><li>a</li><li>b</li></ul><dl><dt>t</dt><dd>d</dd></dl>" },
	{ "<div><span>x", "<div><span>x</span></div>" },
	{ "<br/><br></br><hr noshade><p/>", "<br><br><hr><p></p>" },
	{ "<td width=\"100%\" height=20 bgcolor=#FFFFFF align=CENTER valign=\"top\" colspan=2 "
	  "rowspan=\"x\" nowrap>c</td>",
	  "<td width=\"100%\" height=\"20\" bgcolor=\"#FFFFFF\" align=\"center\" valign=\"top\" "
	  "colspan=\"2\">c</td>" },
	{ "<table border=1 cellpadding=\"2\" cellspacing=\"0\" width=\"600\"><caption>c</caption>"
	  "<colgroup><col width=\"50%\"></colgroup><thead><tr><th>h</th></tr></thead><tbody></tbody>"
	  "<tfoot></tfoot></table>",
	  "<table border=\"1\" cellpadding=\"2\" cellspacing=\"0\" width=\"600\"><caption>c</caption>"
	  "<colgroup><col width=\"50%\"></colgroup><thead><tr><th>h</th></tr></thead><tbody></tbody>"
	  "<tfoot></tfoot></table>" },
	{ "<font color=\"red\" face=\"ＭＳ ゴシック, Osaka\" size=\"+1\">f</font>"
	  "<font size=\"expression(1)\" color=\"red;x:y\" face=\"a&quot;b\">g</font>",
	  "<font color=\"red\" face=\"ＭＳ ゴシック, Osaka\" size=\"+1\">f</font><font>g</font>" },
	{ "<p id=x class=y name=z dir=rtl lang=ja>p</p>", "<p>p</p>" },
	{ "<center><small>s</small><big>b</big><sub>1</sub><sup>2</sup><u>u</u><s>s</s>"
	  "<strike>k</strike><tt>t</tt><del>d</del><ins>i</ins><em>e</em><strong>g</strong></center>",
	  "<center><small>s</small><big>b</big><sub>1</sub><sup>2</sup><u>u</u><s>s</s>"
	  "<strike>k</strike><tt>t</tt><del>d</del><ins>i</ins><em>e</em><strong>g</strong></center>" },
	{ "<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6><blockquote type=cite>"
	  "q</blockquote><pre>a\n b</pre><code>c</code><ol><li>o</li></ol>",
	  "<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6><blockquote>"
	  "q</blockquote><pre>a\n b</pre><code>c</code><ol><li>o</li></ol>" },
	{ "<html><head><meta charset=\"iso-2022-jp\"><title>件名</title></head><body bgcolor=white>"
	  "<p>本文です。</p></body></html>",
	  "<p>本文です。</p>" },
};

static const struct tcase t_text[] = {
	{ "a < b && c > d", "a &lt; b &amp;&amp; c &gt; d" },
	{ "&amp; &lt; &gt; &quot; &nbsp; &copy; &hearts; &NoSuchThing;",
	  "&amp; &lt; &gt; &quot; &nbsp; &copy; &hearts; &NoSuchThing;" },
	{ "&#60;script&#62;&#x3C;/script&#x3e;", "&lt;script&gt;&lt;/script&gt;" },
	{ "&#38;lt; &#0; &#x110000; &#xD800; &#128; &#99999999999999999999;",
	  "&amp;lt; \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xe2\x82\xac \xef\xbf\xbd" },
	{ "AT&T &amp &ampx &# &#x; &", "AT&amp;T &amp; &amp;ampx &amp;# &amp;#x; &amp;" },
	{ "区役所 窓口 ①㈱髙", "区役所 窓口 ①㈱髙" },
	{ "a\xff" "b\xe7\x94", "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\"quotes\" and 'apostrophes'", "\"quotes\" and 'apostrophes'" },
	{ "<span title=\"a&amp;b &lt;c&gt; &quot;d&quot; &#39;e&#39;\">x</span>",
	  "<span title=\"a&amp;b &lt;c&gt; &quot;d&quot; &#39;e&#39;\">x</span>" },
};

static void test_script(void) { TABLE(t_script); }
static void test_events(void) { TABLE(t_events); }
static void test_urls(void) { TABLE(t_urls); }
static void test_images(void) { TABLE(t_images); }
static void test_css(void) { TABLE(t_css); }
static void test_comments(void) { TABLE(t_comments); }
static void test_foreign(void) { TABLE(t_foreign); }
static void test_parser(void) { TABLE(t_parser); }
static void test_structure(void) { TABLE(t_structure); }
static void test_text(void) { TABLE(t_text); }

static void test_nul(void)
{
	static const char in[] = "<a href=\"java\0script:alert(1)\">x\0y</a><img src=java\0script:1>";

	CHECK_STR(clean_with(in, sizeof(in) - 1, &opts, 4096, NULL),
		  "<a>x\xef\xbf\xbdy</a>");
}

static void test_remote_allowed(void)
{
	struct htmlsan_opts o = opts;
	struct htmlsan_stats st;

	o.remote_images = 1;
	CHECK_STR(clean_with("<img src=\"https://ex.jp/a.png?x=1&amp;y=2\" alt=a onerror=x>"
			     "<img src=\"javascript:alert(1)\"><img src=\"cid:c\">", SIZE_MAX, &o, 4096,
			     &st),
		  "<img src=\"https://ex.jp/a.png?x=1&amp;y=2\" alt=\"a\">"
		  "<img src=\"/api/messages/7/cid/c\">");
	CHECK_INT(st.remote_images, 1);
	CHECK_INT(st.cid_images, 1);
	CHECK_INT(st.elements, 2);
	CHECK_INT(st.dropped_elements, 1);
	CHECK_INT(st.dropped_attrs, 1);
	CHECK_INT(st.truncated, 0);
}

static void test_cid_callback(void)
{
	struct htmlsan_opts o = opts;

	o.cid = test_cid_evil;
	CHECK_STR(clean_with("<img src=\"cid:a\">ok", SIZE_MAX, &o, 4096, NULL), "ok");
	o.cid = NULL;
	CHECK_STR(clean_with("<img src=\"cid:a\">ok", SIZE_MAX, &o, 4096, NULL), "ok");
	/* no options at all: defaults, cid images dropped, remote replaced */
	{
		struct buf b;

		buf_init(&b, 4096);
		CHECK_INT(htmlsan_clean(p, "<img src=\"https://x.jp/\"><img src=\"cid:a\">", 42, NULL, &b,
					NULL), 0);
		CHECK_STR(b.data, PH "https://x.jp/\">[remote image]</span>");
		buf_free(&b);
	}
}

static void test_depth_limit(void)
{
	struct htmlsan_opts o = opts;
	struct htmlsan_stats st;
	struct buf in;
	char *got;

	buf_init(&in, 1 << 20);
	for (int k = 0; k < 300; k++)
		buf_append_str(&in, "<div>");
	buf_append_str(&in, "x");
	o.max_depth = 200;
	got = clean_with(in.data, in.len, &o, 1 << 20, &st);
	CHECK_INT(st.elements, 200);
	CHECK_INT(st.dropped_elements, 100);
	CHECK_INT(strlen(got), 200 * strlen("<div></div>") + 1);
	CHECK(strncmp(got + 200 * 5, "x</div>", 7) == 0);
	buf_free(&in);
}

static void test_element_limit(void)
{
	struct htmlsan_opts o = opts;
	struct htmlsan_stats st;

	o.max_elements = 3;
	CHECK_STR(clean_with("<b>1</b><i>2</i><br><u>3</u><p>4", SIZE_MAX, &o, 4096, &st),
		  "<b>1</b><i>2</i><br>34");
	CHECK_INT(st.dropped_elements, 2);
}

static void test_output_limit(void)
{
	struct htmlsan_stats st;
	char *got;

	/* 50 bytes: "<div><b>", 16 for each end tag, 10 bytes of text */
	got = clean_with("<div><b>0123456789012345678901234567890123456789</b></div>", SIZE_MAX, &opts,
			 50, &st);
	CHECK_STR(got, "<div><b>0123456789</b></div>");
	CHECK_INT(st.truncated, 1);
	/* a multi-byte character is never cut */
	got = clean_with("あいうえお", SIZE_MAX, &opts, 7, &st);
	CHECK_STR(got, "あい");
	CHECK_INT(st.truncated, 1);
	/* a tag that does not fit is left out whole */
	got = clean_with("ab<a href=\"https://example.jp/long/path\">x</a>", SIZE_MAX, &opts, 30, &st);
	CHECK_STR(got, "ab");
	CHECK_INT(st.truncated, 1);
}

/* ---- properties ---- */

static const char *const allowed_tags[] = {
	"a", "b", "big", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd",
	"del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
	"ins", "li", "ol", "p", "pre", "s", "small", "span", "strike", "strong", "sub", "sup",
	"table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
};
static const char *const allowed_attrs[] = {
	"align", "alt", "bgcolor", "border", "cellpadding", "cellspacing", "color", "colspan",
	"face", "height", "href", "rowspan", "size", "src", "style", "title", "valign", "width",
	"rel", "target",
};

static int in_list(const char *const *list, size_t n, const char *s, size_t len)
{
	for (size_t k = 0; k < n; k++)
		if (strlen(list[k]) == len && memcmp(list[k], s, len) == 0)
			return 1;
	return 0;
}

#define IN(list, s, len) in_list(list, sizeof(list) / sizeof(list[0]), s, len)

/* a start tag of our output form at s: <name( attr="value")*>; its end */
static const char *wf_start(const char *s, const char **name, size_t *nlen)
{
	const char *q = s + 1;

	*name = q;
	while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'))
		q++;
	*nlen = (size_t)(q - *name);
	if (!IN(allowed_tags, *name, *nlen))
		return NULL;
	while (*q == ' ') {
		const char *an = ++q, *v;

		while (*q >= 'a' && *q <= 'z')
			q++;
		if (!IN(allowed_attrs, an, (size_t)(q - an)) || q[0] != '=' || q[1] != '"')
			return NULL;
		v = q + 2;
		q = strchr(v, '"');
		if (q == NULL || memchr(v, '<', (size_t)(q - v)) || memchr(v, '>', (size_t)(q - v)))
			return NULL;
		if ((size_t)(q - v) >= 11 && strncmp(v, "javascript:", 11) == 0)
			return NULL;
		q++;
	}
	return *q == '>' ? q + 1 : NULL;
}

/* 1 if s is in our output form, every element closed in order */
static int well_formed(const char *s)
{
	const char *stack[1100];
	size_t len[1100], depth = 0;

	while (*s) {
		const char *name;
		size_t nlen;

		if (*s == '>')
			return 0;
		if (*s != '<') {
			s++;
			continue;
		}
		if (s[1] == '/') {
			if (depth == 0 || strncmp(s + 2, stack[depth - 1], len[depth - 1]) != 0 ||
			    s[2 + len[depth - 1]] != '>')
				return 0;
			s += 3 + len[--depth];
			continue;
		}
		if ((s = wf_start(s, &name, &nlen)) == NULL)
			return 0;
		if (!(nlen == 2 && (!memcmp(name, "br", 2) || !memcmp(name, "hr", 2))) &&
		    !(nlen == 3 && (!memcmp(name, "img", 3) || !memcmp(name, "col", 3)))) {
			if (depth == 1100)
				return 0;
			stack[depth] = name, len[depth++] = nlen;
		}
	}
	return depth == 0;
}

/* every prefix of every table input: well-formed output, allowed names only */
static void test_prefixes_well_formed(void)
{
	static const struct {
		const struct tcase *t;
		size_t n;
	} all[] = {
#define T(x) { x, sizeof(x) / sizeof(x[0]) }
		T(t_script), T(t_events), T(t_urls), T(t_images), T(t_css), T(t_comments),
		T(t_foreign), T(t_parser), T(t_structure), T(t_text),
#undef T
	};
	size_t bad = 0, runs = 0;

	for (size_t a = 0; a < sizeof(all) / sizeof(all[0]); a++)
		for (size_t k = 0; k < all[a].n; k++) {
			const char *in = all[a].t[k].in;

			for (size_t cut = 0; cut <= strlen(in); cut++, runs++) {
				char *got = clean_with(in, cut, &opts, 1 << 16, NULL);

				if (got == NULL || !well_formed(got)) {
					if (bad++ < 5)
						printf("  FAIL prefix %zu of \"%s\": \"%s\"\n", cut, in,
						       got ? got : "(null)");
				}
			}
			pool_clear(p);
		}
	CHECK_INT(bad, 0);
	CHECK(runs > 5000);
}

static double cpu_seconds(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/* n bytes of the pattern repeated, sanitised; the CPU seconds it took */
static double time_pattern(const char *pat, size_t n, size_t max_out, struct htmlsan_stats *st)
{
	size_t pl = strlen(pat);
	char *in = malloc(n + 1);
	struct buf out;
	double t0;

	for (size_t k = 0; k < n; k++)
		in[k] = pat[k % pl];
	in[n] = '\0';
	buf_init(&out, max_out);
	t0 = cpu_seconds();
	CHECK_INT(htmlsan_clean(p, in, n, &opts, &out, st), 0);
	t0 = cpu_seconds() - t0;
	CHECK(out.data != NULL && well_formed(out.data));
	buf_free(&out);
	free(in);
	pool_clear(p);
	return t0;
}

static void test_5000_links(void)
{
	struct buf in, out;
	struct htmlsan_stats st;
	double t0;

	buf_init(&in, 8 << 20);
	buf_append_str(&in, "<html><body><table>");
	for (int k = 0; k < 5000; k++)
		buf_printf(&in, "<tr><td><a href=\"https://ex%d.example.jp/p?q=%d&amp;r=1\" "
			   "onclick=\"alert(%d)\" style=\"color:#00f\">リンク%d</a></td></tr>\n", k, k, k, k);
	buf_append_str(&in, "</table></body></html>");
	buf_init(&out, 16 << 20);
	t0 = cpu_seconds();
	CHECK_INT(htmlsan_clean(p, in.data, in.len, &opts, &out, &st), 0);
	t0 = cpu_seconds() - t0;
	CHECK_INT(st.elements, 1 + 5000 * 3);
	CHECK_INT(st.dropped_attrs, 5000);
	CHECK_INT(st.truncated, 0);
	CHECK(strstr(out.data, "<tr><td><a href=\"https://ex4999.example.jp/p?q=4999&amp;r=1\" "
		      "style=\"color: #00f\"" LINK ">リンク4999</a></td></tr>\n</table>") != NULL);
	CHECK(strstr(out.data, "onclick") == NULL);
	CHECK(t0 < 0.5);
	printf("  5000 links, %zu bytes: %.3f s CPU\n", in.len, t0);
	buf_free(&in);
	buf_free(&out);
}

/* 20 MB of each hostile shape: linear, whatever it holds */
static void test_linear_time(void)
{
	static const char *const shapes[] = {
		"<a href=\"https://ex.jp/\" onclick=x>link</a> text &amp; more<br>\n",
		"<div><b><i><span style=\"color:red\">", /* deep: past the depth limit */
		"</b></i></div></p></td>",
		"<<<<<<<<",
		"<a href=\"x\" b=c d=e f=g h=i j=k l=m n=o p=q r=s t=u v=w x=y z=1 ",
		"<!-- -- -- -",
		"&#x3c;&#60;&amp;&nbsp;&#99999999;&",
		"<script>< /script></scrip",
		"<svg><math><p>x</p>",
		"<p style=\"color: rgb(1,2,3); font: 12px 'a'; width: 10px; x: url(y)\">",
	};
	struct htmlsan_stats st;
	double worst = 0;

	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		double small = time_pattern(shapes[k], 1 << 20, 64 << 20, &st);
		double big = time_pattern(shapes[k], 20 << 20, 64 << 20, &st);

		printf("  shape %zu: 1 MB %.3f s, 20 MB %.3f s CPU%s\n", k, small, big,
		       st.truncated ? " (output limit reached)" : "");
		CHECK(big < 4.0);
		if (big > worst)
			worst = big;
	}
	CHECK(worst < 4.0);
}

static void test_helpers(void)
{
	struct buf b;

	CHECK_STR(htmlsan_image_type("image/PNG; name=\"a.png\""), "image/png");
	CHECK_STR(htmlsan_image_type(" image/jpg"), "image/jpeg");
	CHECK_STR(htmlsan_image_type("image/webp"), "image/webp");
	CHECK_STR(htmlsan_image_type("image/gif"), "image/gif");
	CHECK(htmlsan_image_type("image/svg+xml") == NULL);
	CHECK(htmlsan_image_type("image/pngx") == NULL);
	CHECK(htmlsan_image_type(NULL) == NULL);
	buf_init(&b, 1024);
	CHECK_INT(htmlsan_data_url(&b, "image/png", "\x89PNG\r", 5), 0);
	CHECK_STR(b.data, "data:image/png;base64,iVBORw0=");
	buf_reset(&b);
	CHECK_INT(htmlsan_data_url(&b, "image/gif", "ab", 2), 0);
	CHECK_STR(b.data, "data:image/gif;base64,YWI=");
	buf_reset(&b);
	CHECK_INT(htmlsan_data_url(&b, "IMAGE/JPG; name=a.jpg", "a", 1), 0);
	CHECK_STR(b.data, "data:image/jpeg;base64,YQ==");
	buf_reset(&b);
	CHECK_INT(htmlsan_data_url(&b, "text/html", "ab", 2), -1);
	buf_reset(&b);
	CHECK_INT(htmlsan_url_encode(&b, "a b/c@d%é", 10), 0);
	CHECK_STR(b.data, "a%20b%2Fc@d%25%C3%A9");
	buf_free(&b);
}

int main(void)
{
	p = pool_create(0);
	RUN(test_script);
	RUN(test_events);
	RUN(test_urls);
	RUN(test_images);
	RUN(test_css);
	RUN(test_comments);
	RUN(test_foreign);
	RUN(test_parser);
	RUN(test_structure);
	RUN(test_text);
	RUN(test_nul);
	RUN(test_remote_allowed);
	RUN(test_cid_callback);
	RUN(test_depth_limit);
	RUN(test_element_limit);
	RUN(test_output_limit);
	RUN(test_helpers);
	RUN(test_prefixes_well_formed);
	RUN(test_5000_links);
	RUN(test_linear_time);
	pool_destroy(p);
	return TEST_END();
}
