package tools

import (
	"strings"
	"time"
)

// location resolves a time zone name as Outlook may give it: IANA
// (Europe/London), or the Windows name mailbox settings and events often
// carry (GMT Standard Time). Graph accepts both in requests; the Windows
// name is mapped to its IANA zone here only to compute offsets.
func location(name string) (*time.Location, bool) {
	if name == "" || name == "Local" {
		return nil, false
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc, true
	}
	if iana, ok := windowsZones[strings.ToLower(name)]; ok {
		loc, err := time.LoadLocation(iana)
		return loc, err == nil
	}
	return nil, false
}

// ianaZone is the IANA name of a zone Outlook names: the name itself when
// it is one, else the zone windowsZones maps a Windows name to; false
// when the name is neither.
func ianaZone(name string) (string, bool) {
	if strings.Contains(name, "/") || strings.EqualFold(name, "UTC") {
		if _, err := time.LoadLocation(name); err == nil {
			return name, true
		}
	}
	iana, ok := windowsZones[strings.ToLower(strings.TrimSpace(name))]
	return iana, ok
}

// windowsZones maps Windows time zone names (lower case) to the IANA zone
// of their main territory (CLDR's windowsZones table, territory 001),
// under the zone's current IANA name where CLDR keeps an older alias
// (Asia/Kolkata for Asia/Calcutta, Europe/Kyiv for Europe/Kiev).
var windowsZones = map[string]string{
	"dateline standard time":          "Etc/GMT+12",
	"utc-11":                          "Etc/GMT+11",
	"hawaiian standard time":          "Pacific/Honolulu",
	"alaskan standard time":           "America/Anchorage",
	"pacific standard time (mexico)":  "America/Tijuana",
	"pacific standard time":           "America/Los_Angeles",
	"us mountain standard time":       "America/Phoenix",
	"mountain standard time (mexico)": "America/Mazatlan",
	"mountain standard time":          "America/Denver",
	"central america standard time":   "America/Guatemala",
	"central standard time":           "America/Chicago",
	"central standard time (mexico)":  "America/Mexico_City",
	"canada central standard time":    "America/Regina",
	"sa pacific standard time":        "America/Bogota",
	"eastern standard time (mexico)":  "America/Cancun",
	"eastern standard time":           "America/New_York",
	"us eastern standard time":        "America/Indiana/Indianapolis",
	"venezuela standard time":         "America/Caracas",
	"atlantic standard time":          "America/Halifax",
	"sa western standard time":        "America/La_Paz",
	"central brazilian standard time": "America/Cuiaba",
	"pacific sa standard time":        "America/Santiago",
	"newfoundland standard time":      "America/St_Johns",
	"e. south america standard time":  "America/Sao_Paulo",
	"argentina standard time":         "America/Argentina/Buenos_Aires",
	"sa eastern standard time":        "America/Cayenne",
	"greenland standard time":         "America/Nuuk",
	"montevideo standard time":        "America/Montevideo",
	"utc-02":                          "Etc/GMT+2",
	"azores standard time":            "Atlantic/Azores",
	"cape verde standard time":        "Atlantic/Cape_Verde",
	"utc":                             "Etc/UTC",
	"coordinated universal time":      "Etc/UTC",
	"gmt standard time":               "Europe/London",
	"greenwich standard time":         "Atlantic/Reykjavik",
	"morocco standard time":           "Africa/Casablanca",
	"w. europe standard time":         "Europe/Berlin",
	"central europe standard time":    "Europe/Budapest",
	"romance standard time":           "Europe/Paris",
	"central european standard time":  "Europe/Warsaw",
	"w. central africa standard time": "Africa/Lagos",
	"gtb standard time":               "Europe/Bucharest",
	"middle east standard time":       "Asia/Beirut",
	"egypt standard time":             "Africa/Cairo",
	"e. europe standard time":         "Europe/Chisinau",
	"south africa standard time":      "Africa/Johannesburg",
	"fle standard time":               "Europe/Kyiv",
	"israel standard time":            "Asia/Jerusalem",
	"jordan standard time":            "Asia/Amman",
	"arabic standard time":            "Asia/Baghdad",
	"turkey standard time":            "Europe/Istanbul",
	"arab standard time":              "Asia/Riyadh",
	"russian standard time":           "Europe/Moscow",
	"e. africa standard time":         "Africa/Nairobi",
	"iran standard time":              "Asia/Tehran",
	"arabian standard time":           "Asia/Dubai",
	"azerbaijan standard time":        "Asia/Baku",
	"georgian standard time":          "Asia/Tbilisi",
	"afghanistan standard time":       "Asia/Kabul",
	"west asia standard time":         "Asia/Tashkent",
	"pakistan standard time":          "Asia/Karachi",
	"india standard time":             "Asia/Kolkata",
	"sri lanka standard time":         "Asia/Colombo",
	"nepal standard time":             "Asia/Kathmandu",
	"central asia standard time":      "Asia/Almaty",
	"bangladesh standard time":        "Asia/Dhaka",
	"myanmar standard time":           "Asia/Yangon",
	"se asia standard time":           "Asia/Bangkok",
	"n. central asia standard time":   "Asia/Novosibirsk",
	"china standard time":             "Asia/Shanghai",
	"singapore standard time":         "Asia/Singapore",
	"w. australia standard time":      "Australia/Perth",
	"taipei standard time":            "Asia/Taipei",
	"tokyo standard time":             "Asia/Tokyo",
	"korea standard time":             "Asia/Seoul",
	"cen. australia standard time":    "Australia/Adelaide",
	"aus central standard time":       "Australia/Darwin",
	"e. australia standard time":      "Australia/Brisbane",
	"aus eastern standard time":       "Australia/Sydney",
	"west pacific standard time":      "Pacific/Port_Moresby",
	"tasmania standard time":          "Australia/Hobart",
	"new zealand standard time":       "Pacific/Auckland",
	"fiji standard time":              "Pacific/Fiji",
	"tonga standard time":             "Pacific/Tongatapu",
	"samoa standard time":             "Pacific/Apia",
	"utc-09":                          "Etc/GMT+9",
	"utc-08":                          "Etc/GMT+8",
	"aleutian standard time":          "America/Adak",
	"marquesas standard time":         "Pacific/Marquesas",
	"yukon standard time":             "America/Whitehorse",
	"easter island standard time":     "Pacific/Easter",
	"haiti standard time":             "America/Port-au-Prince",
	"cuba standard time":              "America/Havana",
	"turks and caicos standard time":  "America/Grand_Turk",
	"paraguay standard time":          "America/Asuncion",
	"tocantins standard time":         "America/Araguaina",
	"magallanes standard time":        "America/Punta_Arenas",
	"saint pierre standard time":      "America/Miquelon",
	"bahia standard time":             "America/Bahia",
	"sao tome standard time":          "Africa/Sao_Tome",
	"syria standard time":             "Asia/Damascus",
	"west bank standard time":         "Asia/Hebron",
	"kaliningrad standard time":       "Europe/Kaliningrad",
	"sudan standard time":             "Africa/Khartoum",
	"south sudan standard time":       "Africa/Juba",
	"libya standard time":             "Africa/Tripoli",
	"namibia standard time":           "Africa/Windhoek",
	"belarus standard time":           "Europe/Minsk",
	"volgograd standard time":         "Europe/Volgograd",
	"astrakhan standard time":         "Europe/Astrakhan",
	"russia time zone 3":              "Europe/Samara",
	"saratov standard time":           "Europe/Saratov",
	"mauritius standard time":         "Indian/Mauritius",
	"caucasus standard time":          "Asia/Yerevan",
	"ekaterinburg standard time":      "Asia/Yekaterinburg",
	"qyzylorda standard time":         "Asia/Qyzylorda",
	"omsk standard time":              "Asia/Omsk",
	"altai standard time":             "Asia/Barnaul",
	"tomsk standard time":             "Asia/Tomsk",
	"north asia standard time":        "Asia/Krasnoyarsk",
	"w. mongolia standard time":       "Asia/Hovd",
	"north asia east standard time":   "Asia/Irkutsk",
	"ulaanbaatar standard time":       "Asia/Ulaanbaatar",
	"aus central w. standard time":    "Australia/Eucla",
	"transbaikal standard time":       "Asia/Chita",
	"yakutsk standard time":           "Asia/Yakutsk",
	"north korea standard time":       "Asia/Pyongyang",
	"vladivostok standard time":       "Asia/Vladivostok",
	"lord howe standard time":         "Australia/Lord_Howe",
	"bougainville standard time":      "Pacific/Bougainville",
	"russia time zone 10":             "Asia/Srednekolymsk",
	"magadan standard time":           "Asia/Magadan",
	"norfolk standard time":           "Pacific/Norfolk",
	"sakhalin standard time":          "Asia/Sakhalin",
	"central pacific standard time":   "Pacific/Guadalcanal",
	"russia time zone 11":             "Asia/Kamchatka",
	"utc+12":                          "Etc/GMT-12",
	"chatham islands standard time":   "Pacific/Chatham",
	"utc+13":                          "Etc/GMT-13",
	"line islands standard time":      "Pacific/Kiritimati",
}
