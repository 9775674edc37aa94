// The demo shop's front end: who is "signed in" (kept in this browser), and the widget's
// configuration, which fetches a signed identity token from the shop's back end for that person.
(function () {
  var KEY = "hartwell-demo-customer";
  var who = localStorage.getItem(KEY) || "amelia";
  var config = JSON.parse(document.getElementById("widget-config").textContent);

  window.TandemChat = {
    socketUrl: config.socketUrl,
    title: "Hartwell & Co. help",
    subtitle: "Assistant, and our team 8am-8pm",
    storage: "local",
    identityToken: function () {
      return fetch("/shop/api/identity?as=" + encodeURIComponent(who), { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : { token: null }; })
        .then(function (body) { return body.token; });
    },
  };

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("signed-in-as");
    select.value = who;
    var label = select.options[select.selectedIndex].text;
    document.getElementById("who").textContent = who === "anonymous" ? "You are browsing as a guest." : "Welcome back, " + label.split(" ")[0] + ".";
    select.addEventListener("change", function () {
      localStorage.setItem(KEY, select.value);
      window.location.reload();
    });
  });
})();
