// Accessibility after htmx changes the page without reloading it: move focus
// to the new step's heading (or to the error summary) and announce the change
// in the aria-live region #announcer.
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region || !text) return;
    region.textContent = "";
    // A change after the region was emptied is what screen readers announce.
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function normalise(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  // A new step (or the same step with its errors) is in #main.
  function showStep(main) {
    if (!main) return;
    remember(main);
    var summary = main.querySelector(".error-summary");
    var heading = main.querySelector("h1");
    var focus = summary || heading;
    if (focus) {
      if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
      focus.focus();
    }
    if (summary) {
      announce(normalise(summary.textContent));
    } else if (heading) {
      // The step's title, then what just happened (« Vos informations ont
      // été enregistrées. »): the messages sit above the heading, where the
      // focus does not go.
      var parts = [normalise(heading.textContent)];
      main.querySelectorAll(".notice--flash").forEach(function (notice) {
        parts.push(normalise(notice.textContent));
      });
      announce(parts.join(". "));
    }
  }

  // Live checks (a field checked as the person leaves it, the password's
  // rules as they type) speak only of what changed: a field's error when it
  // appears or changes, never again when the same check answers the same; a
  // rule of the password when it becomes met or unmet, not the whole list at
  // each key. ``spoken`` holds what each part (by id) says now.
  var spoken = {};

  function withoutHidden(element) {
    var copy = element.cloneNode(true);
    copy.querySelectorAll("[aria-hidden='true']").forEach(function (hidden) { hidden.remove(); });
    return normalise(copy.textContent);
  }

  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches(selector)) found.unshift(root);
    return found;
  }

  // [key, what it says] for each live part of root: a field says its error
  // (after its label), or nothing; a part marked data-announce-changes says
  // that attribute.
  function liveParts(root) {
    var parts = [];
    within(root, ".field[id]").forEach(function (field) {
      var error = field.querySelector(".error-message");
      var label = field.querySelector("label");
      parts.push([field.id, error ? (label ? withoutHidden(label) + ". " : "") + normalise(error.textContent) : ""]);
    });
    within(root, "[data-announce-changes][id]").forEach(function (part) {
      parts.push([part.id, part.getAttribute("data-announce-changes")]);
    });
    return parts;
  }

  function remember(root) {
    if (!root || !root.querySelectorAll) return;
    liveParts(root).forEach(function (part) { spoken[part[0]] = part[1]; });
  }

  function announceChanges(root) {
    var said = [];
    liveParts(root).forEach(function (part) {
      if (spoken[part[0]] !== part[1] && part[1]) said.push(part[1]);
      spoken[part[0]] = part[1];
    });
    if (said.length) announce(said.join(" "));
  }

  remember(document.body);

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (target && target.id === "main") {
      // Once per step: the event comes again for each part of the answer
      // swapped out of band (the header's nav, with every step), each time
      // naming #main as the target; a second call would say it all again.
      if (event.target === target) showStep(target);
      return;
    }
    // A part of the page that tells what changed, e.g. « Nouvelle image »,
    // or a table row that now holds the decision taken on it.
    var swapped = event.target;
    if (!swapped || !swapped.getAttribute) return;
    var telling = swapped.hasAttribute("data-announce") ? swapped : swapped.querySelector("[data-announce]");
    clearAnswers(swapped);
    if (telling) {
      announce(telling.getAttribute("data-announce"));
      remember(swapped);
    } else {
      announceChanges(swapped);
    }
  });

  // A part that makes what was typed for it pointless (« Nouvelle image »:
  // the answer typed was the old image's) names those fields in
  // data-clears; they are emptied, their error with them, as the step
  // comes back without JavaScript. The focus stays where it was.
  function clearAnswers(swapped) {
    (swapped.getAttribute("data-clears") || "").split(" ").forEach(function (id) {
      var field = id && document.getElementById(id);
      if (!field) return;
      field.value = "";
      forgetError(field);
    });
  }

  // A status line is a live region: an answer that says again what it
  // already says (the draft's « Brouillon enregistré à 09:30 », saved again
  // in the same minute as the person goes from field to field; the SIRENE
  // line's same refusal) is not swapped, or it would be read out again.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.getAttribute("role") !== "status" || typeof event.detail.serverResponse !== "string") return;
    var answer = document.createElement("template");
    answer.innerHTML = event.detail.serverResponse;
    var outOfBand = answer.content.querySelector("[data-hx-swap-oob]");  // the portal writes no bare hx-*
    if (!outOfBand && normalise(answer.content.textContent) === normalise(target.textContent)) {
      event.detail.shouldSwap = false;
    }
  });

  // A field is checked as the person leaves it; if they are still in it,
  // nothing is swapped under their hands: unchanged when they leave, it is
  // checked then (changed, its own change event sends the check).
  function checkOnLeaving(field) {
    var typed = field.value;
    field.addEventListener("blur", function () {
      if (field.value === typed && document.body.contains(field)) window.htmx.trigger(field, "change");
    }, { once: true });
  }

  // A field's check answers for the value it was sent. If the field holds
  // something else by then (the person came back to it and typed), the
  // answer is stale and would put the old value back: it is dropped. If
  // the person is in the field, swapping it would take their caret and
  // selection: it waits until they leave.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var sent = event.detail.requestConfig && event.detail.requestConfig.formData;
    if (!sent || !window.htmx || !target || !target.classList || !target.classList.contains("field")) return;
    var live = target.querySelector("input[data-hx-post]");
    if (!live || !sent.has(live.name)) return;
    if (live === document.activeElement) {
      event.detail.shouldSwap = false;
      checkOnLeaving(live);
    } else if (sent.get(live.name) !== live.value) {
      event.detail.shouldSwap = false;
    }
  });

  // An answer to a field's own request (step 6's directory filling the form
  // as the SIRET is typed, the identifier's block as its type changes) draws
  // other fields of the form again, with the values they held when it left.
  // What the person has typed in them since (a slow directory, the next
  // field begun at once) is kept: it goes into the field drawn, unless the
  // answer locks that field (readonly: the directory's raison sociale).
  var TYPED_INPUTS = /^(text|email|tel|url|search|number)$/;
  var answered = null;  // what the request being swapped sent, when a field sent it
  var caretAtEnd = null;  // the id of the field in which the person is typing, when htmx cannot tell where
  function keepTyped(target, drawnRoot) {
    if (!answered || !target || !drawnRoot || !drawnRoot.querySelectorAll) return;
    Array.prototype.forEach.call(drawnRoot.querySelectorAll("input[name], textarea[name], select[name]"), function (drawn) {
      if (drawn.readOnly || drawn.disabled || !answered.has(drawn.name)) return;
      if (drawn.tagName === "INPUT" && !TYPED_INPUTS.test(drawn.type)) return;
      var live = drawn.id ? document.getElementById(drawn.id) : null;
      if (!live || live.name !== drawn.name || !target.contains(live)) return;
      if (live.value === answered.get(drawn.name)) return;  // unchanged since it left
      // htmx gives the focus back, and the caret where a field tells it (not
      // an e-mail field, which tells none: there it goes after what was typed).
      if (live === document.activeElement && live.selectionStart === null) caretAtEnd = live.id;
      // Written as the answer's own markup would have it: a swap may draw it from its text.
      if (drawn.tagName === "TEXTAREA") {
        drawn.textContent = live.value;
      } else if (drawn.tagName === "SELECT") {
        var options = Array.prototype.slice.call(drawn.options);
        if (!options.some(function (option) { return option.value === live.value; })) return;  // not offered now
        options.forEach(function (option) { option.toggleAttribute("selected", option.value === live.value); });
      } else {
        drawn.setAttribute("value", live.value);
      }
    });
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    answered = config && config.formData && config.elt && config.elt.tagName !== "FORM" ? config.formData : null;
    var target = event.detail.target;
    if (!answered || !event.detail.shouldSwap || typeof event.detail.serverResponse !== "string") return;
    if (!target || !target.classList || target.classList.contains("field")) return;  // a field's own check: above
    var drawn = document.createElement("template");
    drawn.innerHTML = event.detail.serverResponse;
    var before = drawn.innerHTML;
    keepTyped(target, drawn.content);
    if (drawn.innerHTML !== before) event.detail.serverResponse = drawn.innerHTML;
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    keepTyped(event.detail.target, event.detail.fragment);
  });
  document.addEventListener("htmx:afterSwap", function () {
    var focused = document.activeElement;
    if (caretAtEnd && focused && focused.id === caretAtEnd) {
      var typed = focused.value;
      focused.value = "";
      focused.value = typed;  // the caret after it
    }
    answered = caretAtEnd = null;
  });

  // A form sent from a page of several (« Mon compte »: the survey's choice,
  // the contact address's link sent again) brings the page back as stored:
  // what the person had changed in the other forms and not yet saved (a
  // draft's autosave waits 500 ms after a field is left) would be lost. It
  // is put back into the page drawn, and saved where that form keeps a
  // draft. Not into the form sent, whose answer says what became of it, nor
  // into the one it throws away (data-discards: « Abandonner le brouillon »),
  // which sends nothing meanwhile.
  var kept = [];  // the forms whose fields were put back by the last swap
  function typedElsewhere(sent) {
    var found = [];
    within(document.getElementById("main") || document.body, "form[id]").forEach(function (form) {
      if (form === sent || form.id === sent.getAttribute("data-discards")) return;
      Array.prototype.forEach.call(form.elements, function (field) {
        var typed = field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && TYPED_INPUTS.test(field.type));
        if (typed && carried(field) && field.value !== field.defaultValue) found.push([form.id, field.name, field.value]);
      });
    });
    return found;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig, sent = config && config.elt;
    kept = [];
    if (!sent || sent.tagName !== "FORM" || !event.detail.shouldSwap || typeof event.detail.serverResponse !== "string") return;
    var typed = typedElsewhere(sent);
    if (!typed.length) return;
    var drawn = document.createElement("template");
    drawn.innerHTML = event.detail.serverResponse;
    typed.forEach(function (entry) {
      var form = drawn.content.querySelector("form#" + CSS.escape(entry[0]));
      var field = form ? form.querySelector("[name='" + CSS.escape(entry[1]) + "']") : null;
      if (!field || field.readOnly || field.disabled) return;
      if (field.tagName === "TEXTAREA") field.textContent = entry[2];
      else field.setAttribute("value", entry[2]);
      if (kept.indexOf(entry[0]) === -1) kept.push(entry[0]);
    });
    if (kept.length) event.detail.serverResponse = drawn.innerHTML;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var forms = kept;
    kept = [];
    forms.forEach(function (id) {
      var form = document.getElementById(id);
      var status = form && window.htmx ? form.querySelector("#draft-status") : null;
      if (status) window.htmx.trigger(form, "change");  // its autosave (« change from:closest form »)
    });
  });

  // Once a form is sent, the live checks of its fields wait for nothing: one
  // that would leave meanwhile (a check's delay running out after « Soumettre »)
  // would answer for a page about to be replaced, and with the token signing
  // in may just have renewed. It is not sent.
  // Meanwhile the form is aria-busy and its button shows it (app.css).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt, sent = event.detail.requestConfig.triggeringEvent;
    if (leaving) {  // the page is being left (see the language switch): before any mark of sending
      event.preventDefault();
      return;
    }
    if (elt.tagName === "FORM") {
      elt.setAttribute("data-sending", "");
      elt.setAttribute("aria-busy", "true");
      ((sent && sent.submitter) || elt.querySelector("[type=submit]") || elt).setAttribute("data-sending", "");
      return;
    }
    var form = elt.closest ? elt.closest("form") : null;
    if (!form) return;
    var discarded = form.id && document.querySelector("form[data-sending][data-discards='" + CSS.escape(form.id) + "']");
    if (form.hasAttribute("data-sending") || discarded) event.preventDefault();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form.tagName !== "FORM") return;
    // Only the end of the form's own request: a field's live check whose
    // answer redrew the field is said ended on the closest element left,
    // the form, while the step may still be on its way.
    if (event.detail.requestConfig && event.detail.requestConfig.elt !== form) return;
    form.removeAttribute("aria-busy");
    within(form, "[data-sending]").forEach(function (e) { e.removeAttribute("data-sending"); });
  });

  // A field's error from « Soumettre » speaks of what was then sent. When a
  // live answer about the field has come for a value typed since (step 6's
  // directory line, of another SIRET), that error is gone from the field
  // and from the summary: the page says one thing of one identifier.
  function forgetError(field) {
    var block = document.getElementById("field-" + field.id);
    var error = document.getElementById(field.id + "-error");
    if (!block || !error) return;
    error.remove();
    block.classList.remove("field--error");
    field.removeAttribute("aria-invalid");
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== error.id;
    });
    if (described.length) field.setAttribute("aria-describedby", described.join(" "));
    else field.removeAttribute("aria-describedby");
    spoken["field-" + field.id] = "";
    forgetSummaryLine(field.id);
  }
  // The summary's line about a field, gone with the field's error; the
  // summary goes with its last line.
  function forgetSummaryLine(id) {
    var summary = document.querySelector(".error-summary");
    var line = summary && summary.querySelector("a[href='#" + id + "']");
    if (line) line.closest("li").remove();
    if (summary && !summary.querySelector("li")) summary.remove();
  }
  // A box the step requires (« J'accepte les conditions »), refused as it
  // was unticked: ticked now, it is right, as a live check would find it.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.type !== "checkbox" || !box.checked || box.getAttribute("aria-required") !== "true") return;
    if (box.getAttribute("aria-invalid") === "true") forgetError(box);
  });
  // A live check draws its field again: found right since « Continuer »
  // refused it, its line leaves the summary, which then lists only what is
  // still wrong. A field still wrong keeps its line until the next sending.
  document.addEventListener("htmx:afterSettle", function (event) {
    var block = event.target;
    if (!block.id || block.id.indexOf("field-") !== 0 || block.classList.contains("field--error")) return;
    forgetSummaryLine(block.id.slice("field-".length));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var field = event.detail.elt;
    // Only a field whose answer speaks of it elsewhere (step 6's SIRET, in the
    // directory's status line): a live check answers in the field itself, and
    // a password's rules are no verdict on the error « Soumettre » gave.
    // Not an empty answer either (204: nothing to say yet).
    if (field.getAttribute && field.getAttribute("data-hx-target") !== "#sirene-status") return;
    if (event.detail.xhr.status !== 200 || field.tagName !== "INPUT" || !document.body.contains(field)) return;
    if (field.getAttribute("aria-invalid") !== "true") return;
    var digits = function (text) { return text.replace(/\s+/g, ""); };
    if (digits(field.value) !== digits(field.defaultValue)) forgetError(field);
  });

  // Said as the server's notices are; said again only when a person sent it.
  function notify(text, elt) {
    var flashes = document.getElementById("flashes"), shown = flashes && flashes.firstElementChild;
    if (!flashes || (shown && shown.textContent === text && !/^(FORM|BUTTON)$/.test(elt.tagName))) return;
    flashes.innerHTML = '<div class="notice notice--error notice--flash" role="alert"></div>';
    flashes.firstChild.textContent = text;
  }
  // Not the portal's (views.PORTAL_ANSWER): nginx's page while it restarts.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.isError || event.detail.xhr.getResponseHeader("X-Portail")) return;
    event.detail.shouldSwap = false;
    notify(document.body.dataset.unavailable, event.detail.requestConfig.elt);
  });
  ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (event) { notify(document.body.dataset.offline, event.detail.elt); });
  });
  // The captcha's audio cannot load (the network, a challenge gone); a
  // refusal past its limit is spoken by the player itself (views/captcha.py).
  document.addEventListener("error", function (event) {
    var status = event.target.tagName === "AUDIO" && document.getElementById("captcha-audio-status");
    if (status) status.textContent = status.dataset.unavailable;
  }, true);

  // A field whose answer depends on another (« Confirmez » on the address)
  // is checked again when the server names it (portail:recheck), with what
  // it holds at that moment, as if the person had changed it: never with
  // the value the other request carried.
  document.addEventListener("portail:recheck", function (event) {
    var field = document.getElementById(event.detail.value);
    if (!field || !field.value || !window.htmx) return;
    if (field === document.activeElement) {
      checkOnLeaving(field);
    } else {
      window.htmx.trigger(field, "change");
    }
  });

  // Signing in under htmx (activation, the second step: in place) gives the
  // session a new CSRF token (sessions.py): the forms the page already holds
  // outside what was swapped (the header's), and htmx's own header, take it.
  document.addEventListener("portail:session", function (event) {
    var token = event.detail.value;
    if (!token) return;
    var headers = JSON.parse(document.body.getAttribute("data-hx-headers") || "{}");
    headers["X-CSRFToken"] = token;
    document.body.setAttribute("data-hx-headers", JSON.stringify(headers));
    document.querySelectorAll("input[name='csrf_token']").forEach(function (input) {
      input.value = token;
    });
  });

  // Back and forward: htmx puts the step of that address back in the page,
  // asked of the server (no page is kept in the browser). An address the
  // server now sends elsewhere (the captcha, once the sign-up is done) shows
  // the page it sent to, and the address bar says which.
  var landed = null;
  document.addEventListener("htmx:historyCacheMissLoad", function (event) {
    var answer = event.detail.xhr && event.detail.xhr.responseURL;
    landed = null;
    if (!answer) return;
    var url = new URL(answer);
    var there = url.pathname + url.search;
    if (url.origin === window.location.origin && there !== event.detail.path) landed = there;
  });
  document.addEventListener("htmx:historyRestore", function (event) {
    if (landed && event.detail.cacheMiss) window.history.replaceState(window.history.state, "", landed);
    landed = null;
    showStep(document.getElementById("main"));
  });
  // An address that now answers an error (a used link, a page the person
  // may no longer see): htmx leaves the last page under it; the whole page
  // is asked again instead, so the server's error page shows.
  document.addEventListener("htmx:historyCacheMissLoadError", function () {
    window.location.reload();
  });

  // Links in the error summary focus their field.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
    }
  });

  // What was typed in the page's forms, carried over the language switch:
  // held in this tab's sessionStorage for the one reload, put back on the
  // same address, then forgotten. It covers what no draft keeps: a page
  // without one (step 4, whose link names the account), the forms beside a
  // draft's (« Mon compte »'s survey box), a search not yet sent. Passwords,
  // hidden fields (the CSRF token), files, one-time codes, required boxes
  // and fields marked data-not-carried (the captcha's answer: the page comes
  // back with a new image) are never carried. A hidden field marked
  // data-carried is: what an edit form showed, with the fields it carries
  // back (those left as shown too), or they would read as typed over a
  // change saved meanwhile.
  var CARRIED = "portail:typed";
  var CARRIED_TYPES = ["password", "hidden", "file", "submit", "button", "reset", "image"];

  function carried(field) {
    if (!field.name || field.disabled) return false;
    if (field.type === "hidden") return field.hasAttribute("data-carried");
    if (CARRIED_TYPES.indexOf(field.type) !== -1) return false;
    if (field.hasAttribute("data-not-carried") || field.getAttribute("autocomplete") === "one-time-code") {
      return false;
    }
    // A required box confirms something (a deletion, the terms): ticked
    // again by the person, never carried.
    return !((field.type === "checkbox" || field.type === "radio") && field.required);
  }

  // A form's fields, those it holds and those outside it that name it
  // (``form="…"``: a structure's SIRET, part of its edit form).
  function fieldsOfForms(main) {
    return Array.prototype.filter.call(main.querySelectorAll("[name]"), function (field) {
      return Boolean(field.form);
    });
  }

  function carriedFields(main) {
    var fields = [];
    fieldsOfForms(main).forEach(function (field) {
      if (!carried(field)) return;
      var checkable = field.type === "checkbox" || field.type === "radio";
      fields.push([field.name, field.type, checkable ? field.checked : field.value, field.value]);
    });
    return fields;
  }

  function carryTyped() {
    var main = document.getElementById("main");
    if (!main || !window.sessionStorage) return;
    try {
      window.sessionStorage.setItem(CARRIED, JSON.stringify({
        page: window.location.pathname + window.location.search, fields: carriedFields(main)
      }));
    } catch (error) { /* storage full or refused: the page comes back as the server has it */ }
  }

  function putBack(field, type, value, own) {
    if (type === "checkbox" || type === "radio") {
      if (field.value === own) field.checked = value === true;
    } else if (field.tagName === "SELECT") {
      // Only a choice the page offers (the countries follow the identifier's type).
      for (var i = 0; i < field.options.length; i++) {
        if (field.options[i].value === value) { field.value = value; return; }
      }
    } else if (typeof value === "string") {
      field.value = value;
    }
  }

  function putTypedBack() {
    var main = document.getElementById("main");
    var kept = null;
    try {
      kept = window.sessionStorage && JSON.parse(window.sessionStorage.getItem(CARRIED) || "null");
      if (kept) window.sessionStorage.removeItem(CARRIED);
    } catch (error) { return; }
    if (!main || !kept || !Array.isArray(kept.fields)) return;
    if (kept.page !== window.location.pathname + window.location.search) return;
    var changed = [];
    kept.fields.forEach(function (entry) {
      if (!Array.isArray(entry)) return;
      var name = entry[0], type = entry[1], value = entry[2], own = entry[3];
      fieldsOfForms(main).forEach(function (field) {
        // The page decides what may be carried, not what the tab holds.
        if (field.name === name && field.type === type && carried(field)) {
          putBack(field, type, value, own);
          if (field.form && field.value !== field.defaultValue && changed.indexOf(field.form) === -1) changed.push(field.form);
        }
      });
    });
    saveTakenBack(changed);
  }
  // What the switch carried and the page's draft does not hold yet (the
  // switch's own save queued behind an autosave still on its way, which the
  // page then left) is saved as the draft once htmx has read the page: the
  // draft is what « Mon compte » and step 6 come back to. Not over a draft
  // the page sets aside, which what was typed only replaces once saved there.
  function saveTakenBack(forms) {
    if (!forms.length || !window.htmx || document.querySelector("#draft-set-aside:not([data-replaced])")) return;
    var save = function () {
      forms.forEach(function (form) {
        if (form.querySelector("#draft-status")) window.htmx.trigger(form, "change");  // « change from:closest form »
      });
    };
    // htmx reads the page once it is parsed (DOMContentLoaded, after this
    // deferred script): before, the form's « change » finds no autosave
    // listening, and the save is lost. (« interactive » is not that moment.)
    if (document.readyState === "complete") {
      window.setTimeout(save, 0);
    } else {
      document.addEventListener("DOMContentLoaded", function () { window.setTimeout(save, 0); });
    }
  }
  putTypedBack();

  // The passkeys' script (data-passkeys) is fetched once a page draws what it
  // shows (its forms, or the notice of a browser without WebAuthn), which it
  // reveals: three pages of the account, where most visits never go.
  var PASSKEY_PARTS = "form[data-passkey-register], form[data-passkey-sign-in], [data-passkey-unsupported]";
  function loadPasskeys(root) {
    var src = document.body.getAttribute("data-passkeys");
    if (!src || !root || !root.querySelector) return;
    if (!(root.matches && root.matches(PASSKEY_PARTS)) && !root.querySelector(PASSKEY_PARTS)) return;
    document.body.removeAttribute("data-passkeys");
    var script = document.createElement("script");
    script.src = src;
    document.head.appendChild(script);
  }
  loadPasskeys(document);
  document.addEventListener("htmx:load", function (event) { loadPasskeys(event.detail.elt); });

  // A link from one form to another about the same account (« Mot de passe
  // oublié ? » from « Se connecter », and back) takes along the fields it
  // names in data-carries, carried as over the language switch: for that
  // page, once, never a password.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-carries]");
    var form = link && link.closest("form");
    if (!form || !window.sessionStorage) return;
    var names = link.getAttribute("data-carries").split(" ");
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (names.indexOf(field.name) !== -1 && carried(field) && field.value) {
        fields.push([field.name, field.type, field.value, field.value]);
      }
    });
    try {
      window.sessionStorage.setItem(CARRIED, JSON.stringify({page: link.pathname + link.search, fields: fields}));
    } catch (error) { /* storage full or refused: the page opens empty, as without JavaScript */ }
  });

  // The language switch: back to the page as it is now in the address bar
  // (htmx may have moved on since the header was drawn), and a half-filled
  // step's draft saved first, so the page comes back refilled. Not where the
  // page has set a draft aside (step 6 from the search's « Créer cette
  // structure » for another SIRET): saving would replace that draft with the
  // form the person has only looked at; what they typed is carried instead.
  // Once what they typed has replaced it (its notice says so: data-replaced),
  // the switch saves the draft first again.
  var switching = false;
  // Once the switch leaves for the other language, this page is about to be
  // replaced: nothing more is sent from it. An autosave still waiting out its
  // delay (the field just left to reach the switch) would otherwise go while
  // the switch is on its way, and save the form over the draft this page set
  // aside. A person still here afterwards (the browser's Back to this page,
  // or the switch stopped) who types or clicks again gets their checks,
  // saves and steps back.
  var leaving = false;
  // « Reprendre ce brouillon » leaves for the draft set aside: the same
  // (opened in another tab, it leaves nothing).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("#draft-set-aside a[href]") : null;
    var elsewhere = event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey;
    if (link && !elsewhere && !event.defaultPrevented) leaving = true;
  });
  ["input", "change", "click"].forEach(function (type) {
    document.addEventListener(type, function () { leaving = false; }, true);
  });
  window.addEventListener("pageshow", function () { leaving = switching = false; });
  // A link leaving a page whose draft's autosave still waits out its delay
  // (a field just left for « Mon compte », the footer, the portal's name),
  // or a form sent without htmx (« Se déconnecter »), saves the draft first,
  // as the switch does, then goes on: the draft is what that page comes back
  // to. Not a link opened elsewhere (a new tab, a download, another site),
  // one within the page, nor « Reprendre ce brouillon », which leaves for
  // the draft set aside. Clicked again while the save is on its way, it goes
  // at once.
  // The status line of the draft's form typed in since its last save left;
  // a form drawn again (its step sent, which keeps what it held) has a new one.
  var unsaved = null;
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = event.target.form || event.target;
      if (form.querySelector) unsaved = form.querySelector("#draft-status") || unsaved;
    }, true);
  });
  document.addEventListener("htmx:beforeSend", function (event) {
    if (event.detail.target && event.detail.target.id === "draft-status") unsaved = null;
  });
  function unsavedDraft() {
    return unsaved && unsaved.isConnected ? unsaved : null;
  }
  // Each save of a draft from this page is numbered (« draft_order »:
  // the page's own id, then the number): the server never lets a save
  // replace a later one of the same page, which left after it and was
  // answered before it (drafts.page_order). The autosave, « Enregistrer le
  // brouillon », the step sent (it keeps what it holds) and the save sent
  // as the page goes are saves; a field's live check is not.
  var pageId = Array.from(window.crypto.getRandomValues(new Uint8Array(9)), function (byte) {
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[byte % 62];
  }).join(""), saves = 0;
  function nextOrder() {
    saves += 1;
    return pageId + "." + saves;
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest("form"), status = form && form.querySelector("#draft-status");
    var path = event.detail.path;
    if (status && (path === status.getAttribute("data-hx-post") || path === form.getAttribute("data-hx-post"))) {
      event.detail.parameters.set("draft_order", nextOrder());
    }
  });
  function saveDraftThen(event, go) {
    var status = unsavedDraft();
    if (!status || !window.htmx || switching) return;
    event.preventDefault();
    switching = true;
    var proceed = function () {
      window.setTimeout(function () {
        leaving = true;
        go();
      }, 0);
    };
    afterSaving(status).then(function () {
      return window.htmx.ajax("POST", status.getAttribute("data-hx-post"), {
        source: status, target: status, swap: "innerHTML"
      });
    }).then(proceed, proceed);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented) return;
    var elsewhere = event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey ||
      (link.target && link.target !== "_self") || link.hasAttribute("download") ||
      link.origin !== window.location.origin || link.closest("#draft-set-aside");
    var inPage = link.pathname === window.location.pathname && link.search === window.location.search && link.hash;
    if (!elsewhere && !inPage) saveDraftThen(event, function () { window.location.assign(link.href); });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target, submitter = event.submitter;
    var own = form.hasAttribute("data-hx-post") || form.hasAttribute("data-language-switch");
    if (own || event.defaultPrevented || (form.target && form.target !== "_self")) return;
    saveDraftThen(event, function () { form.requestSubmit(submitter); });
  });
  // Left otherwise within the autosave's delay (the browser's Back or
  // Forward, a reload, an address typed, the tab closed) or hidden (a
  // phone's next app, which may close it unseen), the page sends what was
  // typed since the last save at once, in a request the browser finishes
  // even once the page is gone. Not while the form itself is on its way (its
  // step keeps what it holds) or thrown away (« Abandonner le brouillon »),
  // nor when the page leaves as above (the switch, « Reprendre ce brouillon »).
  function saveAsThePageGoes() {
    var status = unsavedDraft(), form = status && status.closest("form");
    if (!form || leaving || switching || !window.fetch) return;
    var discarded = form.id && document.querySelector("form[data-sending][data-discards='" + CSS.escape(form.id) + "']");
    if (form.hasAttribute("data-sending") || discarded) return;
    unsaved = null;
    var fields = new URLSearchParams(new FormData(form));
    fields.set("draft_order", nextOrder());
    window.fetch(status.getAttribute("data-hx-post"), {
      method: "POST", body: fields, keepalive: true, credentials: "same-origin",
      headers: {"HX-Request": "true", "HX-Target": "draft-status", "HX-Current-URL": window.location.href}
    }).then(function (response) {  // 204 (the session ended: HX-Redirect), nothing to draw
      return response.status === 200 ? response.text() : null;
    }).then(function (answer) {  // a page only hidden, or kept for Back: its line says so
      if (answer !== null && status.isConnected && window.htmx) window.htmx.swap(status, answer, {swapStyle: "innerHTML"});
    }).catch(function () {  // gone offline: a link, or hiding the page again, tries again
      unsaved = unsaved || status;
    });
  }
  window.addEventListener("pagehide", saveAsThePageGoes);
  // Back and Forward between pages htmx drew stay in this document: htmx
  // draws the other page in place of this one once this event is handled.
  window.addEventListener("popstate", saveAsThePageGoes);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveAsThePageGoes();
  });
  // Once the autosave on its way (and any queued behind it) has answered:
  // htmx would queue this save behind it and answer at once, and the page
  // would be left before it went.
  function afterSaving(status) {
    if (!status.classList.contains("htmx-request")) return Promise.resolve();
    return new Promise(function (answered) {
      status.addEventListener("htmx:afterRequest", function () { window.setTimeout(answered, 0); }, {once: true});
    }).then(function () { return afterSaving(status); });
  }
  // Without JavaScript a page's form may own the switch's buttons, to send
  // what it holds (templates/layouts/_language_switch.html); here they are
  // the switch's again, and the fields are carried as above; the form's own
  // first button is its default again (Enter), as the hidden one stood for it.
  document.querySelectorAll("[data-language-switch] button[form]").forEach(function (button) {
    ["form", "formaction", "formmethod", "formnovalidate"].forEach(function (name) {
      button.removeAttribute(name);
    });
  });
  document.querySelectorAll("button[data-default-submit]").forEach(function (button) {
    button.remove();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-language-switch") || switching) return;
    form.elements.next.value = window.location.pathname + window.location.search;
    carryTyped();
    var status = document.getElementById("draft-status");
    if (!status || !window.htmx || document.querySelector("#draft-set-aside:not([data-replaced])")) {
      leaving = true;
      return;
    }
    event.preventDefault();
    switching = true;
    var submitter = event.submitter;
    // In a task of its own: an autosave already on its way queues this save
    // behind it and htmx answers at once, while the switch's submit event is
    // still being dispatched, when the browser ignores another submission.
    var proceed = function () {
      window.setTimeout(function () {
        leaving = true;
        form.requestSubmit(submitter);
      }, 0);
    };
    window.htmx.ajax("POST", status.getAttribute("data-hx-post"), {
      source: status, target: status, swap: "innerHTML"
    }).then(proceed, proceed);
  });
})();
